import { describe, expect, it } from 'vitest';
import { Graph } from '../../src/core/graph/graph';
import { serialize } from '../../src/core/graph/serialize';
import { Runtime, RuntimeError, cudaAvailable, resolveDevice } from '../../src/core/runtime';

describe('runtime', () => {
  it('falls back to the CPU when CUDA is not installed, and refuses an explicit cuda request clearly', async () => {
    const hasCuda = await cudaAvailable();
    expect(await resolveDevice('cpu')).toBe('cpu');
    expect(await resolveDevice('auto')).toBe(hasCuda ? 'cuda' : 'cpu');
    if (!hasCuda) await expect(resolveDevice('cuda')).rejects.toThrow(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    await expect(resolveDevice('tpu' as 'cpu')).rejects.toThrow(RuntimeError);
  });

  it('checks feeds by name and size, and caches sessions by content hash', async () => {
    const rt = await Runtime.create({ device: 'cpu', threads: 1 });
    const g = new Graph();
    const x = g.input('x', [2, 2]);
    const m = serialize(g, [{ name: 'y', value: g.mulScalar(x, 3) }]);
    await expect(rt.run(m, {})).rejects.toThrow(/missing input "x"/);
    await expect(rt.run(m, { x: { data: new Float32Array(3), dims: [2, 2] } })).rejects.toThrow(/3 values do not fill/);
    await expect(rt.run(m, { x: { data: new Float32Array(4), dims: [2, 2] }, z: { data: new Float32Array(1), dims: [1] } })).rejects.toThrow(/unexpected input "z"/);
    const out = await rt.run(m, { x: { data: Float32Array.from([1, 2, 3, 4]), dims: [2, 2] } });
    expect([...out.y!.data]).toEqual([3, 6, 9, 12]);
    await rt.release();
  });
});
