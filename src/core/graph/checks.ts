// One finite-difference check per gradient rule, on small odd shapes with
// broadcasting, strides, padding, dilation and groups.
import { Rng } from '../util/random';
import type { CheckCase, CheckInput } from './gradcheck';
import { Graph, Shape, Value, numel } from './graph';

type Kind = 'normal' | 'positive' | 'awayFromZero';

function input(g: Graph, rng: Rng, name: string, shape: Shape, kind: Kind = 'normal'): CheckInput {
  const n = numel(shape);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rng.normal();
    data[i] = kind === 'positive' ? 0.5 + Math.abs(v) : kind === 'awayFromZero' ? Math.sign(v || 1) * (0.3 + Math.abs(v)) : v;
  }
  return { value: g.input(name, shape), data };
}

function unary(name: string, f: (g: Graph, x: Value) => Value, kind: Kind = 'normal', shape: Shape = [2, 3, 5]): CheckCase {
  return {
    name,
    build(g, rng) {
      const x = input(g, rng, 'x', shape, kind);
      return { wrt: [x], out: f(g, x.value) };
    }
  };
}

function binary(name: string, f: (g: Graph, a: Value, b: Value) => Value, sa: Shape, sb: Shape, kb: Kind = 'normal'): CheckCase {
  return {
    name,
    build(g, rng) {
      const a = input(g, rng, 'a', sa);
      const b = input(g, rng, 'b', sb, kb);
      return { wrt: [a, b], out: f(g, a.value, b.value) };
    }
  };
}

export function opChecks(): CheckCase[] {
  return [
    binary('Add (broadcast)', (g, a, b) => g.add(a, b), [2, 3, 4], [3, 1]),
    binary('Sub (broadcast)', (g, a, b) => g.sub(a, b), [2, 1, 4], [3, 4]),
    binary('Mul (broadcast)', (g, a, b) => g.mul(a, b), [2, 3, 4], [2, 1, 1]),
    binary('Div (broadcast)', (g, a, b) => g.div(a, b), [3, 4], [4], 'positive'),
    unary('Neg', (g, x) => g.neg(x)),
    unary('Sqrt', (g, x) => g.sqrt(x), 'positive'),
    unary('Reciprocal', (g, x) => g.reciprocal(x), 'positive'),
    unary('Exp', (g, x) => g.exp(x)),
    unary('Log', (g, x) => g.log(x), 'positive'),
    unary('Abs', (g, x) => g.abs(x), 'awayFromZero'),
    unary('Sigmoid', (g, x) => g.sigmoid(x)),
    unary('Tanh', (g, x) => g.tanh(x)),
    unary('Relu', (g, x) => g.relu(x), 'awayFromZero'),
    unary('Pow (p=3)', (g, x) => g.pow(x, 3)),
    unary('Pow (p=-0.5)', (g, x) => g.pow(x, -0.5), 'positive'),
    unary('LeakyRelu (0.2) x sqrt2', (g, x) => g.mulScalar(g.leakyRelu(x, 0.2), Math.SQRT2), 'awayFromZero'),
    unary('Clip (conv_clamp)', (g, x) => g.clip(x, -0.8, 0.9), 'normal', [4, 6]),
    {
      name: 'Where (broadcast)',
      build(g, rng) {
        const c = g.greater(g.constant(rng.normals(12), [3, 4]), g.scalar(0));
        const a = input(g, rng, 'a', [3, 4]);
        const b = input(g, rng, 'b', [1, 4]);
        return { wrt: [a, b], out: g.where(c, a.value, b.value) };
      }
    },
    binary('MatMul', (g, a, b) => g.matmul(a, b), [3, 5], [5, 4]),
    binary('MatMul (batched, broadcast)', (g, a, b) => g.matmul(a, b), [2, 1, 3, 5], [3, 5, 2]),
    unary('ReduceSum (keepdims)', (g, x) => g.reduceSum(x, [0, 2], true), 'normal', [3, 4, 5]),
    unary('ReduceSum', (g, x) => g.reduceSum(x, [1]), 'normal', [3, 4, 5]),
    unary('ReduceMean', (g, x) => g.reduceMean(x, [-1], true), 'normal', [3, 4, 5]),
    unary('Reshape', (g, x) => g.mul(g.reshape(x, [5, 6]), g.reshape(x, [5, 6])), 'normal', [2, 3, 5]),
    unary('Transpose', (g, x) => g.transpose(x, [2, 0, 1]), 'normal', [2, 3, 5]),
    unary('Expand', (g, x) => g.expand(x, [4, 3, 5]), 'normal', [3, 1]),
    unary('Slice', (g, x) => g.slice(x, [1, 2], [1, 1], [3, 4]), 'normal', [2, 4, 5]),
    binary('Concat', (g, a, b) => g.concat([a, b, a], 1), [2, 3, 2], [2, 1, 2]),
    unary('Pad', (g, x) => g.pad(x, [0, 1, 2, 0, 2, 1], 0.5), 'normal', [2, 3, 3]),
    {
      name: 'Conv (stride 2, asymmetric pads, odd size)',
      build(g, rng) {
        const x = input(g, rng, 'x', [2, 3, 9, 7]);
        const w = input(g, rng, 'w', [4, 3, 3, 3]);
        return { wrt: [x, w], out: g.conv(x.value, w.value, { strides: [2, 2], pads: [1, 0, 1, 2] }) };
      }
    },
    {
      name: 'Conv (groups 2, dilation 2)',
      build(g, rng) {
        const x = input(g, rng, 'x', [1, 4, 8, 7]);
        const w = input(g, rng, 'w', [6, 2, 3, 3]);
        return { wrt: [x, w], out: g.conv(x.value, w.value, { group: 2, dilations: [2, 2], pads: [1, 1, 1, 1] }) };
      }
    },
    {
      name: 'Conv (weight initializer, 1x1)',
      build(g, rng) {
        const x = input(g, rng, 'x', [2, 5, 4, 3]);
        const w = { value: g.weight('w1x1', rng.normals(15), [3, 5, 1, 1]), data: rng.normals(15) };
        return { wrt: [x, w], out: g.conv(x.value, w.value) };
      }
    },
    // A constant (initializer) weight at stride 1 takes autodiff's fast path: the input
    // gradient is a plain Conv with the flipped, in/out-swapped kernel baked as a new
    // initializer. Only x is differentiated, so the weight stays constant.
    {
      name: 'Conv fast path (constant weight, stride 1, 3x3 pads 1)',
      build(g, rng) {
        const x = input(g, rng, 'x', [2, 3, 6, 5]);
        const w = g.weight('wconst3x3', rng.normals(4 * 3 * 9), [4, 3, 3, 3]);
        return { wrt: [x], out: g.conv(x.value, w, { pads: [1, 1, 1, 1] }) };
      }
    },
    {
      name: 'Conv fast path (constant weight, stride 1, groups 2, dilation 2x1, asymmetric pads)',
      build(g, rng) {
        const x = input(g, rng, 'x', [2, 4, 7, 6]);
        const w = g.weight('wconstgrouped', rng.normals(6 * 2 * 9), [6, 2, 3, 3]);
        return { wrt: [x], out: g.conv(x.value, w, { group: 2, dilations: [2, 1], pads: [2, 1, 1, 0] }) };
      }
    },
    {
      name: 'ConvTranspose (stride 2, pads 1, output_padding 1)',
      build(g, rng) {
        const x = input(g, rng, 'x', [2, 4, 5, 6]);
        const w = input(g, rng, 'w', [4, 3, 3, 3]);
        return { wrt: [x, w], out: g.convTranspose(x.value, w.value, { strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] }) };
      }
    },
    {
      name: 'ConvTranspose (groups 2, depthwise FIR-like)',
      build(g, rng) {
        const x = input(g, rng, 'x', [1, 4, 5, 5]);
        const w = input(g, rng, 'w', [4, 1, 4, 4]);
        return { wrt: [x, w], out: g.convTranspose(x.value, w.value, { strides: [2, 2], pads: [1, 1, 1, 1], group: 4 }) };
      }
    },
    unary('AveragePool (2x2)', (g, x) => g.averagePool(x, 2), 'normal', [2, 3, 8, 6]),
    unary('AveragePool (3x3 stride 2, odd)', (g, x) => g.averagePool(x, 3, 2), 'normal', [1, 2, 8, 7]),
    unary('MaxPool (2x2)', (g, x) => g.maxPool2(x), 'normal', [2, 3, 6, 8]),
    unary('Upsample nearest x2', (g, x) => g.upsampleNearest(x, 2), 'normal', [1, 2, 3, 4]),
    {
      name: 'Shared value (fan-out accumulation)',
      build(g, rng) {
        const x = input(g, rng, 'x', [3, 4]);
        const y = g.mul(g.tanh(x.value), g.sigmoid(x.value));
        return { wrt: [x], out: g.add(y, g.reduceSum(g.matmul(x.value, g.transpose(x.value, [1, 0])), [1], true)) };
      }
    }
  ];
}
