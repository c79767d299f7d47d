// The only module that imports onnxruntime-node. It picks the execution
// providers for a device, caches sessions by the graph's content hash and runs
// them with float32 feeds.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { Graph } from '../graph/graph';
import { serialize, type SerializedModel } from '../graph/serialize';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof Ort;

// Identity over one float: enough to see whether a provider initialises.
const TINY_MODEL = (() => {
  const g = new Graph();
  const x = g.input('x', [1]);
  return serialize(g, [{ name: 'y', value: g.identity(x) }]).bytes;
})();

export const ortVersion = (): string => ort.env.versions?.node ?? 'unknown';

export type DevicePreference = 'auto' | 'cpu' | 'cuda';
export type Device = 'cpu' | 'cuda';

export class RuntimeError extends Error {
  readonly code = 'RUNTIME';
}

export interface TensorData {
  data: Float32Array;
  dims: readonly number[];
}

let cudaProbe: Promise<boolean> | undefined;

/**
 * Whether the CUDA provider really loads: its library is only present when the
 * package was installed with ONNXRUNTIME_NODE_INSTALL=cuda12, and it needs a GPU.
 * Probed once with a one-node session.
 */
export function cudaAvailable(): Promise<boolean> {
  cudaProbe ??= (async () => {
    const pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
    const lib = join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
    if (process.platform !== 'linux' || !existsSync(lib)) return false;
    try {
      const s = await ort.InferenceSession.create(TINY_MODEL, { executionProviders: ['cuda'] });
      await s.release();
      return true;
    } catch {
      return false;
    }
  })();
  return cudaProbe;
}

export async function resolveDevice(pref: DevicePreference = (process.env.STYLECAST_DEVICE as DevicePreference) || 'auto'): Promise<Device> {
  if (pref !== 'auto' && pref !== 'cpu' && pref !== 'cuda') {
    throw new RuntimeError(`unknown device "${pref}": use auto, cpu or cuda`);
  }
  if (pref === 'cpu') return 'cpu';
  const hasCuda = await cudaAvailable();
  if (pref === 'cuda' && !hasCuda) {
    throw new RuntimeError(
      'device cuda was asked for, but this onnxruntime-node has no CUDA provider: reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci, or use --device cpu'
    );
  }
  return hasCuda ? 'cuda' : 'cpu';
}

export interface RuntimeOptions {
  device?: DevicePreference;
  threads?: number;
}

export class Runtime {
  private readonly sessions = new Map<string, Promise<Ort.InferenceSession>>();
  private constructor(readonly device: Device, readonly threads: number) {}

  static async create(opts: RuntimeOptions = {}): Promise<Runtime> {
    const device = await resolveDevice(opts.device);
    const envThreads = Number(process.env.STYLECAST_THREADS) || 0;
    return new Runtime(device, opts.threads ?? (envThreads || cpus().length));
  }

  private sessionFor(model: SerializedModel): Promise<Ort.InferenceSession> {
    let s = this.sessions.get(model.hash);
    if (!s) {
      s = ort.InferenceSession.create(model.bytes, {
        executionProviders: this.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
        graphOptimizationLevel: 'all',
        // Static shapes would let ORT pre-plan one block per run (memory pattern), but for
        // gradient graphs at 1024x1024 that plan plus the arena's doubling growth runs
        // past 24 GiB at batch 4; without it peak memory is about half, at the same speed.
        enableMemPattern: false,
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential'
      });
      s.catch(() => this.sessions.delete(model.hash));
      this.sessions.set(model.hash, s);
    }
    return s;
  }

  /** Compiles (once per content hash) without running: lets callers warm up. */
  async prepare(model: SerializedModel): Promise<void> {
    await this.sessionFor(model);
  }

  async run(model: SerializedModel, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const session = await this.sessionFor(model);
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const name of session.inputNames) {
      const f = feeds[name];
      if (!f) throw new RuntimeError(`missing input "${name}" (the graph needs ${session.inputNames.join(', ')})`);
      const expected = f.dims.reduce((a, b) => a * b, 1);
      if (f.data.length !== expected) {
        throw new RuntimeError(`input "${name}": ${f.data.length} values do not fill shape [${f.dims.join(', ')}]`);
      }
      ortFeeds[name] = new ort.Tensor('float32', f.data, [...f.dims]);
    }
    for (const name of Object.keys(feeds)) {
      if (!session.inputNames.includes(name)) throw new RuntimeError(`unexpected input "${name}"`);
    }
    const out = await session.run(ortFeeds);
    const result: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(out)) {
      result[name] = { data: t.data as Float32Array, dims: t.dims };
    }
    return result;
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }
}
