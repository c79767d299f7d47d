// Runs the StyleGAN2 entry points on the runtime, building each graph once per
// (entry point, batch, options) and caching it by key.
import { Graph } from '../graph/graph';
import { SerializedModel, serialize } from '../graph/serialize';
import type { Runtime } from '../runtime';
import { ModelBundle } from './bundle';
import { StyleGan2 } from './stylegan2';

export type Entry = 'mapping' | 'styles' | 'synthesis' | 'render';

export class Generator {
  readonly net: StyleGan2;
  private readonly graphs = new Map<string, SerializedModel>();

  constructor(readonly bundle: ModelBundle, readonly runtime: Runtime) {
    this.net = new StyleGan2(bundle);
  }

  get id(): string {
    return this.bundle.manifest.id;
  }

  graph(entry: Entry, batch: number): SerializedModel {
    const key = `${entry}:${batch}`;
    let m = this.graphs.get(key);
    if (m) return m;
    const a = this.net.arch;
    const g = new Graph();
    let out;
    if (entry === 'mapping') out = this.net.mapping(g, g.input('z', [batch, a.zDim]));
    else if (entry === 'styles') out = this.net.styles(g, g.input('wplus', [batch, this.net.numWs, a.wDim]));
    else if (entry === 'synthesis') out = this.net.synthesis(g, g.input('s', [batch, this.net.styleDim]));
    else out = this.net.render(g, g.input('wplus', [batch, this.net.numWs, a.wDim]));
    m = serialize(g, [{ name: 'out', value: out }], { graphName: `${this.bundle.manifest.name}-${entry}-b${batch}` });
    this.graphs.set(key, m);
    return m;
  }

  private async run(entry: Entry, input: string, data: Float32Array, dims: number[]): Promise<Float32Array> {
    const r = await this.runtime.run(this.graph(entry, dims[0]!), { [input]: { data, dims } });
    return r.out!.data;
  }

  mapping(z: Float32Array, batch: number): Promise<Float32Array> {
    return this.run('mapping', 'z', z, [batch, this.net.arch.zDim]);
  }
  styles(wplus: Float32Array, batch: number): Promise<Float32Array> {
    return this.run('styles', 'wplus', wplus, [batch, this.net.numWs, this.net.arch.wDim]);
  }
  synthesis(s: Float32Array, batch: number): Promise<Float32Array> {
    return this.run('synthesis', 's', s, [batch, this.net.styleDim]);
  }
  render(wplus: Float32Array, batch: number): Promise<Float32Array> {
    return this.run('render', 'wplus', wplus, [batch, this.net.numWs, this.net.arch.wDim]);
  }
}
