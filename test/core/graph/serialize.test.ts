import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src/core/graph/graph';
import { serialize, OPSET } from '../../../src/core/graph/serialize';
import { Runtime } from '../../../src/core/runtime';

const { onnx } = onnxProto;

describe('ONNX serialisation', () => {
  it('writes opset 17, static shapes, and only the nodes the outputs need', () => {
    const g = new Graph();
    const x = g.input('x', [2, 3]);
    const w = g.weight('w', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    const used = g.matmul(x, w);
    g.exp(g.weight('unused', new Float32Array(4), [4])); // dead branch
    const m = serialize(g, [{ name: 'y', value: used }]);
    const model = onnx.ModelProto.decode(m.bytes);
    expect(Number(model.opsetImport[0]!.version)).toBe(OPSET);
    expect(model.graph!.node!.map((n) => n.opType)).toEqual(['MatMul', 'Identity']);
    expect(model.graph!.initializer!.map((i) => i.name)).toEqual(['w']);
    expect(model.graph!.output![0]!.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue))).toEqual([2, 2]);
    expect(m.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('shares a network\'s weight within one graph: one initializer however often it is asked for', () => {
    const g = new Graph();
    const net = {};
    let made = 0;
    const data = () => (made++, Float32Array.from([1, 2, 3, 4]));
    const x = g.input('x', [1, 2]);
    const a = g.matmul(x, g.sharedWeight(net, 'w', data, [2, 2]));
    const b = g.matmul(a, g.sharedWeight(net, 'w', data, [2, 2]));
    expect(made).toBe(1);
    expect(() => g.sharedWeight(net, 'w', data, [4, 1])).toThrow('shared weight "w" is [2, 2], asked for as [4, 1]');
    // Another graph gets its own copy.
    const h = new Graph();
    h.sharedWeight(net, 'w', data, [2, 2]);
    expect(made).toBe(2);
    const model = onnx.ModelProto.decode(serialize(g, [{ name: 'y', value: b }]).bytes);
    expect(model.graph!.initializer!.map((i) => i.name)).toEqual(['w']);
  });

  it('can expose a weight as an input for fine-tuning', async () => {
    const g = new Graph();
    const x = g.input('x', [1, 2]);
    const w = g.weight('w', Float32Array.from([1, 0, 0, 1]), [2, 2]);
    const m = serialize(g, [{ name: 'y', value: g.matmul(x, w) }], { initializersAsInputs: ['w'] });
    expect(m.inputNames).toEqual(['x', 'w']);
    const rt = await Runtime.create({ device: 'cpu' });
    const out = await rt.run(m, { x: { data: Float32Array.from([1, 2]), dims: [1, 2] }, w: { data: Float32Array.from([0, 1, 1, 0]), dims: [2, 2] } });
    expect([...out.y!.data]).toEqual([2, 1]);
    expect(() => serialize(g, [{ name: 'y', value: x }], { initializersAsInputs: ['nope'] })).toThrow(/no initializer named "nope"/);
  });

  it('the same graph serialises to the same bytes (stable cache keys)', () => {
    const build = () => {
      const g = new Graph();
      const x = g.input('x', [3]);
      return serialize(g, [{ name: 'y', value: g.mulScalar(g.exp(x), 2) }]).hash;
    };
    expect(build()).toBe(build());
  });
});
