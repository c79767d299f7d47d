// Reverse-mode automatic differentiation over the graph builder's own ops.
// The gradient is built as more nodes on the same tape, so "loss and gradient"
// serialises as one ONNX graph. Only the paths from the requested inputs to the
// loss are differentiated: a conv weight's gradient is never built when only
// latents are optimised. The rules follow shared/AUTODIFF.md and each one has
// a finite-difference check in gradcheck.ts.
import { Graph, GraphError, Shape, Value, numel } from './graph';
import type { ConvAttrs, Node, NodeOf, OpName } from './ops';

interface RuleContext {
  /** Values the current gradients() call differentiates with respect to: never treated as constants. */
  variables: ReadonlySet<number>;
}

type Rule<K extends OpName> = (g: Graph, node: NodeOf<K>, dy: Value, wants: boolean[], ctx: RuleContext) => (Value | null)[];

/**
 * A rule that holds only for some attributes says which it accepts: the reason it
 * refuses a node, or null. Nodes emitted outside the builder (face/nets) get a gradient
 * only when their rule accepts them.
 */
type Accepts<K extends OpName> = (node: NodeOf<K>) => string | null;

/** Sums a broadcast gradient back down to the operand's shape. */
export function reduceTo(g: Graph, dy: Value, shape: Shape): Value {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const lead = dy.shape.length - shape.length;
  const axes: number[] = [];
  dy.shape.forEach((d, i) => {
    const j = i - lead;
    if (j < 0 || (shape[j] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? g.reduceSum(dy, axes, true) : dy;
  return g.reshape(summed, [...shape]);
}

function transposeLast2(g: Graph, v: Value): Value {
  const r = v.shape.length;
  const perm = v.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return g.transpose(v, perm);
}

/**
 * Gradient of a convolution with respect to its weight: a Conv in which the
 * input (batch and channels swapped) is correlated with the output gradient
 * (swapped the same way); the forward stride becomes the dilation. Groups are
 * handled one at a time.
 */
function convWeightGrad(g: Graph, x: Value, dy: Value, m: ConvAttrs, wShape: Shape): Value {
  const [kh, kw] = [wShape[2] as number, wShape[3] as number];
  const group = m.group;
  const cin = (x.shape[1] as number) / group;
  const cout = (dy.shape[1] as number) / group;
  const parts: Value[] = [];
  for (let gi = 0; gi < group; gi++) {
    const xg = group === 1 ? x : g.slice(x, [1], [gi * cin], [(gi + 1) * cin]);
    const dyg = group === 1 ? dy : g.slice(dy, [1], [gi * cout], [(gi + 1) * cout]);
    const xT = g.transpose(xg, [1, 0, 2, 3]);
    const dyT = g.transpose(dyg, [1, 0, 2, 3]);
    let r = g.conv(xT, dyT, { strides: m.dilations, dilations: m.strides, pads: m.pads });
    if (r.shape[2] !== kh || r.shape[3] !== kw) r = g.slice(r, [2, 3], [0, 0], [kh, kw]);
    parts.push(g.transpose(r, [1, 0, 2, 3]));
  }
  return g.concat(parts, 0);
}

/** W[o, i, a, b] (grouped) -> W'[i, o, k-1-a, k-1-b]: the kernel of the stride-1 Conv adjoint. */
function flipSwap(w: Float32Array, shape: Shape, group: number): Float32Array {
  const [o, ig, kh, kw] = shape as [number, number, number, number];
  const og = o / group;
  const out = new Float32Array(w.length);
  for (let gi = 0; gi < group; gi++)
    for (let oo = 0; oo < og; oo++)
      for (let i = 0; i < ig; i++)
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++) {
            const src = (((gi * og + oo) * ig + i) * kh + a) * kw + b;
            const dst = (((gi * ig + i) * og + oo) * kh + (kh - 1 - a)) * kw + (kw - 1 - b);
            out[dst] = w[src]!;
          }
  return out;
}

const zerosLike = (g: Graph, v: Value): Value => g.expand(g.scalar(0), [...v.shape]);

const RULES: { [K in OpName]?: Rule<K> } = {
  Identity: (_g, _n, dy) => [dy],
  Add: (g, n, dy) => [reduceTo(g, dy, n.inputs[0]!.shape), reduceTo(g, dy, n.inputs[1]!.shape)],
  Sub: (g, n, dy, w) => [reduceTo(g, dy, n.inputs[0]!.shape), w[1] ? reduceTo(g, g.neg(dy), n.inputs[1]!.shape) : null],
  Mul: (g, n, dy, w) => {
    const [a, b] = n.inputs as [Value, Value];
    return [w[0] ? reduceTo(g, g.mul(dy, b), a.shape) : null, w[1] ? reduceTo(g, g.mul(dy, a), b.shape) : null];
  },
  Div: (g, n, dy, w) => {
    const [a, b] = n.inputs as [Value, Value];
    return [
      w[0] ? reduceTo(g, g.div(dy, b), a.shape) : null,
      w[1] ? reduceTo(g, g.neg(g.div(g.mul(dy, n.output), b)), b.shape) : null
    ];
  },
  Neg: (g, _n, dy) => [g.neg(dy)],
  Sqrt: (g, n, dy) => [g.div(g.mulScalar(dy, 0.5), n.output)],
  Reciprocal: (g, n, dy) => [g.neg(g.mul(dy, g.square(n.output)))],
  Exp: (g, n, dy) => [g.mul(dy, n.output)],
  Log: (g, n, dy) => [g.div(dy, n.inputs[0]!)],
  Abs: (g, n, dy) => [g.mul(dy, g.sign(n.inputs[0]!))],
  Sigmoid: (g, n, dy) => [g.mul(dy, g.mul(n.output, g.sub(g.scalar(1), n.output)))],
  Tanh: (g, n, dy) => [g.mul(dy, g.sub(g.scalar(1), g.square(n.output)))],
  Relu: (g, n, dy) => [g.where(g.greater(n.inputs[0]!, g.scalar(0)), dy, g.scalar(0))],
  Pow: (g, n, dy) => {
    const p = n.attrs.exponent;
    return [g.mul(dy, g.mulScalar(g.pow(n.inputs[0]!, p - 1), p)), null];
  },
  // LeakyRelu and Clip read their mask off the output, not the input, so the input
  // can be freed after the forward pass (the output is usually kept anyway, as the
  // next layer's input). LeakyRelu(alpha > 0) keeps the sign; Clip's output is strictly
  // inside the bounds exactly where the input was (up to the measure-zero boundary).
  LeakyRelu: (g, n, dy) => {
    const alpha = n.attrs.alpha;
    if (!(alpha > 0)) return [g.where(g.greater(n.inputs[0]!, g.scalar(0)), dy, g.mulScalar(dy, alpha))];
    return [g.where(g.greater(n.output, g.scalar(0)), dy, g.mulScalar(dy, alpha))];
  },
  Clip: (g, n, dy) => {
    const { lo, hi } = n.attrs;
    const y = n.output;
    const inside = g.and(g.greater(y, g.scalar(lo)), g.greater(g.scalar(hi), y));
    return [g.where(inside, dy, g.scalar(0)), null, null];
  },
  Where: (g, n, dy, w) => {
    const [c, a, b] = n.inputs as [Value, Value, Value];
    const zero = g.scalar(0);
    return [
      null,
      w[1] ? reduceTo(g, g.where(c, dy, zero), a.shape) : null,
      w[2] ? reduceTo(g, g.where(c, zero, dy), b.shape) : null
    ];
  },
  MatMul: (g, n, dy, w) => {
    const [a, b] = n.inputs as [Value, Value];
    return [
      w[0] ? reduceTo(g, g.matmul(dy, transposeLast2(g, b)), a.shape) : null,
      w[1] ? reduceTo(g, g.matmul(transposeLast2(g, a), dy), b.shape) : null
    ];
  },
  ReduceSum: (g, n, dy) => {
    const x = n.inputs[0]!;
    const axes = n.attrs.axes;
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return [g.expand(g.reshape(dy, kept), [...x.shape]), null];
  },
  Reshape: (g, n, dy) => [g.reshape(dy, [...n.inputs[0]!.shape]), null],
  Transpose: (g, n, dy) => {
    const perm = n.attrs.perm;
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [g.transpose(dy, inv)];
  },
  Expand: (g, n, dy) => [reduceTo(g, dy, n.inputs[0]!.shape), null],
  Slice: (g, n, dy) => {
    const x = n.inputs[0]!;
    const r = x.shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    const { axes, starts, ends } = n.attrs;
    axes.forEach((ax, i) => {
      pads[ax] = starts[i] as number;
      pads[ax + r] = (x.shape[ax] as number) - (ends[i] as number);
    });
    return [g.pad(dy, pads), null, null, null];
  },
  Concat: (g, n, dy, w) => {
    const axis = n.attrs.axis;
    let offset = 0;
    return n.inputs.map((v, i) => {
      const size = v.shape[axis] as number;
      const part = w[i] ? g.slice(dy, [axis], [offset], [offset + size]) : null;
      offset += size;
      return part;
    });
  },
  Pad: (g, n, dy) => {
    const x = n.inputs[0]!;
    const pads = n.attrs.pads;
    const axes = x.shape.map((_, i) => i);
    const starts = axes.map((i) => pads[i] as number);
    const ends = axes.map((i) => (pads[i] as number) + (x.shape[i] as number));
    return [g.slice(dy, axes, starts, ends), null, null];
  },
  Conv: (g, n, dy, w, ctx) => {
    const [x, wt] = n.inputs as [Value, Value];
    const m = n.attrs;
    let dx: Value | null = null;
    if (w[0]) {
      const [kh, kw] = m.kernel_shape;
      const outPad = [0, 1].map((i) => {
        const full = (m.strides[i] as number) * ((dy.shape[2 + i] as number) - 1) + ((i ? kw : kh) - 1) * (m.dilations[i] as number) + 1 - (m.pads[i] as number) - (m.pads[i + 2] as number);
        return (x.shape[2 + i] as number) - full;
      }) as [number, number];
      const init = g.initializerOf(wt);
      const [pt, pl, pb, pr] = m.pads;
      const [d0, d1] = m.dilations;
      const fullPads = [(kh - 1) * d0 - pt, (kw - 1) * d1 - pl, (kh - 1) * d0 - pb, (kw - 1) * d1 - pr] as [number, number, number, number];
      if (init && !ctx.variables.has(wt.id) && m.strides[0] === 1 && m.strides[1] === 1 && fullPads.every((p) => p >= 0)) {
        // Stride 1 with a constant weight: the adjoint is a plain Conv with the flipped,
        // in/out-swapped kernel, stored as an initializer so ORT pre-packs it and
        // runs its (faster) Conv kernels instead of ConvTranspose.
        g.markBaked(wt);
        const flipped = g.weight(`${init.name}.adjoint_${g.nodes.length}`, flipSwap(init.data as Float32Array, wt.shape, m.group), [
          ((wt.shape[1] as number) * m.group),
          (wt.shape[0] as number) / m.group,
          kh,
          kw
        ]);
        dx = g.conv(dy, flipped, { pads: fullPads, dilations: m.dilations, group: m.group });
      } else {
        dx = g.convTranspose(dy, wt, { strides: m.strides, pads: m.pads, dilations: m.dilations, group: m.group, outputPadding: outPad });
      }
    }
    const dw = w[1] ? convWeightGrad(g, x, dy, m, wt.shape) : null;
    return [dx, dw];
  },
  ConvTranspose: (g, n, dy, w) => {
    const [x, wt] = n.inputs as [Value, Value];
    const m = n.attrs;
    const dx = w[0] ? g.conv(dy, wt, { strides: m.strides, pads: m.pads, dilations: m.dilations, group: m.group }) : null;
    // y = ConvT(x, W) is the adjoint of Conv(., W): <dy, ConvT(x, W)> = <Conv(dy, W), x>.
    const dw = w[1] ? convWeightGrad(g, dy, x, m, wt.shape) : null;
    return [dx, dw];
  },
  AveragePool: (g, n, dy) => {
    const x = n.inputs[0]!;
    const [k] = n.attrs.kernel_shape;
    const [stride] = n.attrs.strides;
    const [b, c, h, wd] = x.shape as [number, number, number, number];
    const [oh, ow] = [dy.shape[2] as number, dy.shape[3] as number];
    const flat = g.reshape(dy, [b * c, 1, oh, ow]);
    const kernel = g.constant(new Float32Array(k * k).fill(1 / (k * k)), [1, 1, k, k]);
    const outPad: [number, number] = [h - (stride * (oh - 1) + k), wd - (stride * (ow - 1) + k)];
    const up = g.convTranspose(flat, kernel, { strides: [stride, stride], outputPadding: outPad });
    return [g.reshape(up, [b, c, h, wd])];
  },
  MaxPool: (g, n, dy) => {
    const x = n.inputs[0]!;
    const winner = g.equal(x, g.upsampleNearest(n.output, 2));
    return [g.where(winner, g.upsampleNearest(dy, 2), g.scalar(0))];
  }
};

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

const ACCEPTS: { [K in OpName]?: Accepts<K> } = {
  // The rule spreads each output gradient over a k x k window with a stride, from the top left.
  AveragePool: (n) => {
    const { kernel_shape: k, strides: s, pads } = n.attrs;
    if (k[0] !== k[1] || s[0] !== s[1]) return 'the rule needs a square kernel and equal strides';
    return pads.every((p) => p === 0) ? null : 'the rule has no padding';
  },
  // The rule finds each window's winner by comparing the input with the output upsampled x2.
  MaxPool: (n) => {
    const { kernel_shape: k, strides: s, pads } = n.attrs;
    const [x, y] = [n.inputs[0]!.shape, n.output.shape];
    if (!same(k, [2, 2]) || !same(s, [2, 2]) || pads.some((p) => p !== 0)) return 'the rule covers 2x2 windows with stride 2 and no padding only';
    return x[2] === 2 * (y[2] as number) && x[3] === 2 * (y[3] as number) ? null : 'the rule needs even input sizes';
  }
};

function ruleFor(n: Node): Rule<OpName> {
  if (n.noGrad) throw new GraphError(`gradients: ${n.op} was built forward-only and has no gradient`);
  const rule = RULES[n.op] as Rule<OpName> | undefined;
  if (!rule) throw new GraphError(`gradients: no rule for op ${n.op}`);
  const why = (ACCEPTS[n.op] as Accepts<OpName> | undefined)?.(n);
  if (why) throw new GraphError(`gradients: no gradient for ${n.op} with attributes ${JSON.stringify(n.attrs)}: ${why}`);
  return rule;
}

export function hasGradientRule(op: string): boolean {
  return op in RULES;
}

/** Why `gradients` would refuse this node (no rule, forward-only, attributes its rule does not accept), or null. */
export function gradientRefusal(n: Node): string | null {
  try {
    ruleFor(n);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Appends to `g` the nodes computing d loss / d wrt for a scalar `loss`, and
 * returns one gradient per requested value (zeros where the loss does not
 * depend on it).
 */
export function gradients(g: Graph, loss: Value, wrt: readonly Value[]): Value[] {
  if (numel(loss.shape) !== 1) {
    throw new GraphError(`gradients: the loss must be a scalar, got shape [${loss.shape.join(', ')}]`);
  }
  const forwardEnd = g.nodes.length;
  const dependsOnWrt = new Set<number>(wrt.map((v) => v.id));
  for (let i = 0; i < forwardEnd; i++) {
    const n = g.nodes[i]!;
    if (n.inputs.some((v) => dependsOnWrt.has(v.id))) dependsOnWrt.add(n.output.id);
  }
  const lossNeeds = new Set<number>([loss.id]);
  for (let i = loss.producer; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (lossNeeds.has(n.output.id)) for (const v of n.inputs) lossNeeds.add(v.id);
  }

  const ctx: RuleContext = { variables: new Set(wrt.map((v) => v.id)) };
  const grads = new Map<number, Value>();
  grads.set(loss.id, g.constant([1], loss.shape));
  for (let i = loss.producer; i >= 0; i--) {
    const n = g.nodes[i]!;
    const dy = grads.get(n.output.id);
    if (!dy) continue;
    const wants = n.inputs.map((v) => v.dtype === 'float32' && dependsOnWrt.has(v.id) && lossNeeds.has(v.id));
    if (!wants.some(Boolean)) continue;
    const dxs = ruleFor(n)(g, n, dy, wants, ctx);
    n.inputs.forEach((v, k) => {
      const d = dxs[k];
      if (!wants[k] || !d) return;
      const prev = grads.get(v.id);
      grads.set(v.id, prev ? g.add(prev, d) : d);
    });
  }
  return wrt.map((v) => grads.get(v.id) ?? zerosLike(g, v));
}
