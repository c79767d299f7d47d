// The L-BFGS history's two matrix products (util/linalg.ts, CompactLbfgs) on onnxruntime: with a
// memory of 400 pairs over the identity's unknowns they are the largest cost of an identity
// step on a small model when run in JavaScript, and a few milliseconds as one MatMul each.
import { Graph } from '../graph/graph';
import { serialize, type SerializedModel } from '../graph/serialize';
import { Runtime } from '../runtime';
import type { HistoryProducts } from '../util/linalg';

export class OrtHistoryProducts implements HistoryProducts {
  private readonly models = new Map<string, SerializedModel>();
  /**
   * A runtime of its own on one CPU thread: a session's thread pool spins between runs, and a
   * second pool spinning beside the renderer's took the CPU from it (the identity cost 40% more).
   */
  private rt: Promise<Runtime> | null = null;

  private model(key: string, build: (g: Graph) => ReturnType<Graph['matmul']>): SerializedModel {
    let m = this.models.get(key);
    if (!m) {
      const g = new Graph();
      m = serialize(g, [{ name: 'out', value: build(g) }], { graphName: key });
      this.models.set(key, m);
    }
    return m;
  }

  private runtime(): Promise<Runtime> {
    return (this.rt ??= Runtime.create({ device: 'cpu', threads: 1 }));
  }

  async project(h: Float32Array, rows: number, n: number, v: Float32Array, k: number): Promise<Float32Array> {
    const model = this.model(`project-${rows}-${n}-${k}`, (g) => g.matmul(g.input('h', [rows, n]), g.transpose(g.input('v', [k, n]), [1, 0])));
    const out = await (await this.runtime()).run(model, { h: { data: h, dims: [rows, n] }, v: { data: v, dims: [k, n] } });
    return out.out!.data;
  }

  async combine(h: Float32Array, rows: number, n: number, c: Float32Array): Promise<Float32Array> {
    const model = this.model(`combine-${rows}-${n}`, (g) => g.matmul(g.input('c', [1, rows]), g.input('h', [rows, n])));
    const out = await (await this.runtime()).run(model, { h: { data: h, dims: [rows, n] }, c: { data: c, dims: [1, rows] } });
    return out.out!.data;
  }
}

/** One for the process: its sessions (one per history shape) serve every encode. */
export const ortHistoryProducts = new OrtHistoryProducts();
