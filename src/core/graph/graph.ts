// A small tape-based graph builder that emits ONNX (opset 17).
// Every value has a static shape known at build time, so gradients can be
// built as more ops on the same tape (see autodiff.ts) and the whole thing
// serialised as one ONNX graph for onnxruntime-node.
import type { Node, OpAttrs, OpName } from './ops';

export type Shape = readonly number[];
export type DType = 'float32' | 'int64' | 'bool';

export class GraphError extends Error {
  readonly code = 'GRAPH';
}

export interface Value {
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Index of the producing node, or -1 for inputs and initializers. */
  readonly producer: number;
}

export type { AttrValue, ConvAttrs, ConvTransposeAttrs, Node, NodeOf, OpAttrs, OpName, PoolAttrs } from './ops';

export interface Initializer {
  readonly value: Value;
  readonly name: string;
  readonly data: Float32Array | BigInt64Array | Uint8Array;
}

export interface GraphInput {
  readonly value: Value;
  readonly name: string;
}

export const numel = (s: Shape): number => s.reduce((a, b) => a * b, 1);
export const shapeStr = (s: Shape): string => `[${s.join(', ')}]`;

export function broadcastShapes(a: Shape, b: Shape, what = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new GraphError(`${what}: shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

function normAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y);
}

function convOut(size: number, k: number, stride: number, padBegin: number, padEnd: number, dil: number): number {
  return Math.floor((size + padBegin + padEnd - dil * (k - 1) - 1) / stride) + 1;
}

export interface ConvOpts {
  strides?: [number, number];
  pads?: [number, number, number, number]; // top, left, bottom, right
  dilations?: [number, number];
  group?: number;
}

export interface ConvTransposeOpts extends ConvOpts {
  outputPadding?: [number, number];
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: GraphInput[] = [];
  readonly initializers: Initializer[] = [];
  private readonly values: Value[] = [];
  private readonly initById = new Map<number, Initializer>();
  private readonly sharedWeights = new WeakMap<object, Map<string, Value>>();
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<number, Value>();
  /** Initializers whose data was baked into derived constants: they must stay constant. */
  readonly baked = new Set<number>();

  /** Records that `v`'s current data was folded into other constants. */
  markBaked(v: Value): void {
    this.baked.add(v.id);
  }

  private newValue(shape: Shape, dtype: DType, producer: number): Value {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new GraphError(`invalid dimension in shape ${shapeStr(shape)}`);
    }
    const v: Value = { id: this.values.length, shape: [...shape], dtype, producer };
    this.values.push(v);
    return v;
  }

  private uniqueName(name: string): string {
    if (this.names.has(name)) throw new GraphError(`duplicate graph name "${name}"`);
    this.names.add(name);
    return name;
  }

  value(id: number): Value {
    const v = this.values[id];
    if (!v) throw new GraphError(`unknown value ${id}`);
    return v;
  }

  /** The node that computes `v` (an error for inputs and initializers). */
  producerOf(v: Value): Node {
    const n = this.nodes[v.producer];
    if (!n) throw new GraphError(`value ${v.id} is an input or initializer, not computed by a node`);
    return n;
  }

  initializerOf(v: Value): Initializer | undefined {
    return this.initById.get(v.id);
  }

  nameOf(v: Value): string {
    const init = this.initById.get(v.id);
    if (init) return init.name;
    const inp = this.inputs.find((i) => i.value.id === v.id);
    if (inp) return inp.name;
    return `v${v.id}`;
  }

  input(name: string, shape: Shape, dtype: DType = 'float32'): Value {
    const v = this.newValue(shape, dtype, -1);
    this.inputs.push({ value: v, name: this.uniqueName(name) });
    return v;
  }

  /** A named constant tensor stored as an ONNX initializer. */
  weight(name: string, data: Float32Array, shape: Shape): Value {
    if (data.length !== numel(shape)) {
      throw new GraphError(`weight "${name}": ${data.length} values do not fill shape ${shapeStr(shape)}`);
    }
    const v = this.newValue(shape, 'float32', -1);
    const init: Initializer = { value: v, name: this.uniqueName(name), data };
    this.initializers.push(init);
    this.initById.set(v.id, init);
    return v;
  }

  /**
   * The initializer `name` of `owner` (a network whose weights this graph uses), created from
   * `data()` the first time it is asked for in this graph and shared after that, so that
   * several uses of one network (per-frame branches, two images through one loss network)
   * read one copy of its weights.
   */
  sharedWeight(owner: object, name: string, data: () => Float32Array, shape: Shape): Value {
    let m = this.sharedWeights.get(owner);
    if (!m) {
      m = new Map();
      this.sharedWeights.set(owner, m);
    }
    let v = m.get(name);
    if (!v) {
      v = this.weight(name, data(), shape);
      m.set(name, v);
    } else if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw new GraphError(`shared weight "${name}" is ${shapeStr(v.shape)}, asked for as ${shapeStr(shape)}`);
    }
    return v;
  }

  constant(data: Float32Array | number[], shape: Shape): Value {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.weight(`const_${this.values.length}`, arr, shape);
  }

  scalar(x: number): Value {
    const hit = this.scalarCache.get(x);
    if (hit) return hit;
    const v = this.constant([x], []);
    this.scalarCache.set(x, v);
    return v;
  }

  int64(values: readonly number[]): Value {
    const v = this.newValue([values.length], 'int64', -1);
    const init: Initializer = {
      value: v,
      name: this.uniqueName(`i64_${this.values.length}`),
      data: BigInt64Array.from(values.map((x) => BigInt(x)))
    };
    this.initializers.push(init);
    this.initById.set(v.id, init);
    return v;
  }

  /**
   * Appends a node with its op's typed attributes (ops.ts). Used by the builder methods and
   * by networks that need an op variant the builder does not make (face/nets); a gradient
   * rule checks that it accepts the attributes of any node it is asked to differentiate.
   */
  emit<K extends OpName>(op: K, inputs: Value[], shape: Shape, attrs: OpAttrs[K], dtype: DType = 'float32', opts: { noGrad?: boolean } = {}): Value {
    const out = this.newValue(shape, dtype, this.nodes.length);
    this.nodes.push({ op, inputs, output: out, attrs, ...(opts.noGrad ? { noGrad: true } : {}) } as Node);
    return out;
  }

  // ---- elementwise -------------------------------------------------------
  private binary(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: Value, b: Value): Value {
    return this.emit(op, [a, b], broadcastShapes(a.shape, b.shape, op), {});
  }
  add(a: Value, b: Value): Value { return this.binary('Add', a, b); }
  sub(a: Value, b: Value): Value { return this.binary('Sub', a, b); }
  mul(a: Value, b: Value): Value { return this.binary('Mul', a, b); }
  div(a: Value, b: Value): Value { return this.binary('Div', a, b); }
  addScalar(a: Value, x: number): Value { return this.add(a, this.scalar(x)); }
  mulScalar(a: Value, x: number): Value { return x === 1 ? a : this.mul(a, this.scalar(x)); }
  neg(a: Value): Value { return this.emit('Neg', [a], a.shape, {}); }
  sqrt(a: Value): Value { return this.emit('Sqrt', [a], a.shape, {}); }
  reciprocal(a: Value): Value { return this.emit('Reciprocal', [a], a.shape, {}); }
  rsqrt(a: Value): Value { return this.reciprocal(this.sqrt(a)); }
  exp(a: Value): Value { return this.emit('Exp', [a], a.shape, {}); }
  log(a: Value): Value { return this.emit('Log', [a], a.shape, {}); }
  abs(a: Value): Value { return this.emit('Abs', [a], a.shape, {}); }
  sign(a: Value): Value { return this.emit('Sign', [a], a.shape, {}); }
  square(a: Value): Value { return this.mul(a, a); }
  sigmoid(a: Value): Value { return this.emit('Sigmoid', [a], a.shape, {}); }
  tanh(a: Value): Value { return this.emit('Tanh', [a], a.shape, {}); }
  relu(a: Value): Value { return this.emit('Relu', [a], a.shape, {}); }
  pow(a: Value, p: number): Value {
    if (p === 2) return this.square(a);
    if (p === 1) return a;
    return this.emit('Pow', [a, this.scalar(p)], a.shape, { exponent: p });
  }
  leakyRelu(a: Value, alpha = 0.2): Value {
    return this.emit('LeakyRelu', [a], a.shape, { alpha });
  }
  clip(a: Value, lo: number, hi: number): Value {
    return this.emit('Clip', [a, this.scalar(lo), this.scalar(hi)], a.shape, { lo, hi });
  }
  greater(a: Value, b: Value): Value {
    return this.emit('Greater', [a, b], broadcastShapes(a.shape, b.shape, 'Greater'), {}, 'bool');
  }
  lessOrEqual(a: Value, b: Value): Value {
    return this.emit('LessOrEqual', [a, b], broadcastShapes(a.shape, b.shape, 'LessOrEqual'), {}, 'bool');
  }
  greaterOrEqual(a: Value, b: Value): Value {
    return this.emit('GreaterOrEqual', [a, b], broadcastShapes(a.shape, b.shape, 'GreaterOrEqual'), {}, 'bool');
  }
  equal(a: Value, b: Value): Value {
    return this.emit('Equal', [a, b], broadcastShapes(a.shape, b.shape, 'Equal'), {}, 'bool');
  }
  and(a: Value, b: Value): Value {
    if (a.dtype !== 'bool' || b.dtype !== 'bool') throw new GraphError('And takes boolean values');
    return this.emit('And', [a, b], broadcastShapes(a.shape, b.shape, 'And'), {}, 'bool');
  }
  where(cond: Value, a: Value, b: Value): Value {
    if (cond.dtype !== 'bool') throw new GraphError('Where needs a boolean condition');
    const shape = broadcastShapes(cond.shape, broadcastShapes(a.shape, b.shape, 'Where'), 'Where');
    return this.emit('Where', [cond, a, b], shape, {});
  }
  castFloat(a: Value): Value {
    return this.emit('Cast', [a], a.shape, { to: 1 });
  }

  // ---- linear algebra and reductions -------------------------------------
  matmul(a: Value, b: Value): Value {
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new GraphError(`MatMul needs rank >= 2 operands, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
    }
    const [m, k] = a.shape.slice(-2) as [number, number];
    const [k2, n] = b.shape.slice(-2) as [number, number];
    if (k !== k2) throw new GraphError(`MatMul: inner dimensions differ in ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
    return this.emit('MatMul', [a, b], [...batch, m, n], {});
  }

  reduceSum(a: Value, axes: readonly number[], keepdims = false): Value {
    const ax = normAxes(axes, a.shape.length);
    for (const x of ax) if (x < 0 || x >= a.shape.length) throw new GraphError(`ReduceSum: axis out of range for ${shapeStr(a.shape)}`);
    const shape = keepdims ? a.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : a.shape.filter((_, i) => !ax.includes(i));
    return this.emit('ReduceSum', [a, this.int64(ax)], shape, { axes: ax, keepdims });
  }
  reduceMean(a: Value, axes: readonly number[], keepdims = false): Value {
    const ax = normAxes(axes, a.shape.length);
    const count = ax.reduce((p, i) => p * (a.shape[i] as number), 1);
    return this.mulScalar(this.reduceSum(a, ax, keepdims), 1 / count);
  }
  sumAll(a: Value): Value {
    return this.reduceSum(a, a.shape.map((_, i) => i), false);
  }
  meanAll(a: Value): Value {
    return this.mulScalar(this.sumAll(a), 1 / numel(a.shape));
  }

  // ---- shape ---------------------------------------------------------------
  reshape(a: Value, shape: readonly number[]): Value {
    const resolved = [...shape];
    const neg = resolved.indexOf(-1);
    if (neg >= 0) {
      const known = resolved.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
      resolved[neg] = numel(a.shape) / known;
    }
    if (numel(resolved) !== numel(a.shape) || !resolved.every(Number.isInteger)) {
      throw new GraphError(`Reshape: cannot view ${shapeStr(a.shape)} as ${shapeStr(shape)}`);
    }
    if (resolved.length === a.shape.length && resolved.every((d, i) => d === a.shape[i])) return a;
    return this.emit('Reshape', [a, this.int64(resolved)], resolved, { shape: resolved });
  }
  transpose(a: Value, perm: readonly number[]): Value {
    if (perm.length !== a.shape.length || [...perm].sort().some((p, i) => p !== i)) {
      throw new GraphError(`Transpose: bad permutation [${perm}] for ${shapeStr(a.shape)}`);
    }
    return this.emit('Transpose', [a], perm.map((p) => a.shape[p] as number), { perm: [...perm] });
  }
  expand(a: Value, shape: readonly number[]): Value {
    const out = broadcastShapes(a.shape, shape, 'Expand');
    if (out.length === a.shape.length && out.every((d, i) => d === a.shape[i])) return a;
    return this.emit('Expand', [a, this.int64(out)], out, { shape: out });
  }
  slice(a: Value, axes: readonly number[], starts: readonly number[], ends: readonly number[]): Value {
    const shape = [...a.shape];
    const ax = axes.map((x) => (x < 0 ? x + a.shape.length : x));
    const st: number[] = [];
    const en: number[] = [];
    ax.forEach((axis, i) => {
      const dim = a.shape[axis] as number;
      const s = Math.max(0, Math.min(dim, (starts[i] as number) < 0 ? (starts[i] as number) + dim : (starts[i] as number)));
      const e = Math.max(s, Math.min(dim, (ends[i] as number) < 0 ? (ends[i] as number) + dim : (ends[i] as number)));
      st.push(s);
      en.push(e);
      shape[axis] = e - s;
    });
    return this.emit('Slice', [a, this.int64(st), this.int64(en), this.int64(ax)], shape, { axes: ax, starts: st, ends: en });
  }
  concat(values: Value[], axis: number): Value {
    if (values.length === 0) throw new GraphError('Concat of nothing');
    if (values.length === 1) return values[0] as Value;
    const first = values[0] as Value;
    const ax = axis < 0 ? axis + first.shape.length : axis;
    const shape = [...first.shape];
    shape[ax] = 0;
    for (const v of values) {
      if (v.shape.length !== first.shape.length || v.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
        throw new GraphError(`Concat: ${shapeStr(v.shape)} does not match ${shapeStr(first.shape)} off axis ${ax}`);
      }
      shape[ax] = (shape[ax] as number) + (v.shape[ax] as number);
    }
    return this.emit('Concat', values, shape, { axis: ax });
  }
  /** Constant padding; pads given as [begin per axis..., end per axis...] like ONNX. */
  pad(a: Value, pads: readonly number[], value = 0): Value {
    const r = a.shape.length;
    if (pads.length !== 2 * r || pads.some((p) => p < 0)) throw new GraphError(`Pad: need ${2 * r} non-negative pads`);
    if (pads.every((p) => p === 0)) return a;
    const shape = a.shape.map((d, i) => d + (pads[i] as number) + (pads[i + r] as number));
    return this.emit('Pad', [a, this.int64(pads), this.scalar(value)], shape, { pads: [...pads] });
  }

  // ---- convolution -----------------------------------------------------------
  conv(x: Value, w: Value, opts: ConvOpts = {}): Value {
    const [s0, s1] = opts.strides ?? [1, 1];
    const [pt, pl, pb, pr] = opts.pads ?? [0, 0, 0, 0];
    const [d0, d1] = opts.dilations ?? [1, 1];
    const group = opts.group ?? 1;
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, ci, kh, kw] = w.shape as [number, number, number, number];
    if (x.shape.length !== 4 || w.shape.length !== 4) throw new GraphError('Conv expects NCHW input and OIHW weight');
    if (ci * group !== c || o % group !== 0) {
      throw new GraphError(`Conv: weight ${shapeStr(w.shape)} with group ${group} does not fit input ${shapeStr(x.shape)}`);
    }
    const oh = convOut(h, kh, s0, pt, pb, d0);
    const ow = convOut(wd, kw, s1, pl, pr, d1);
    if (oh <= 0 || ow <= 0) throw new GraphError(`Conv: empty output for input ${shapeStr(x.shape)}`);
    return this.emit('Conv', [x, w], [n, o, oh, ow], { strides: [s0, s1], pads: [pt, pl, pb, pr], dilations: [d0, d1], group, kernel_shape: [kh, kw] });
  }

  convTranspose(x: Value, w: Value, opts: ConvTransposeOpts = {}): Value {
    const [s0, s1] = opts.strides ?? [1, 1];
    const [pt, pl, pb, pr] = opts.pads ?? [0, 0, 0, 0];
    const [d0, d1] = opts.dilations ?? [1, 1];
    const [op0, op1] = opts.outputPadding ?? [0, 0];
    const group = opts.group ?? 1;
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [ci, og, kh, kw] = w.shape as [number, number, number, number];
    if (ci !== c) throw new GraphError(`ConvTranspose: weight ${shapeStr(w.shape)} does not fit input ${shapeStr(x.shape)}`);
    const oh = s0 * (h - 1) + op0 + (kh - 1) * d0 + 1 - pt - pb;
    const ow = s1 * (wd - 1) + op1 + (kw - 1) * d1 + 1 - pl - pr;
    return this.emit('ConvTranspose', [x, w], [n, og * group, oh, ow], {
      strides: [s0, s1],
      pads: [pt, pl, pb, pr],
      dilations: [d0, d1],
      group,
      kernel_shape: [kh, kw],
      output_padding: [op0, op1]
    });
  }

  averagePool(x: Value, k: number, stride = k): Value {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const oh = convOut(h, k, stride, 0, 0, 1);
    const ow = convOut(w, k, stride, 0, 0, 1);
    return this.emit('AveragePool', [x], [n, c, oh, ow], { kernel_shape: [k, k], strides: [stride, stride], pads: [0, 0, 0, 0] });
  }

  /** 2x2 max pooling with stride 2 on even sizes (VGG). */
  maxPool2(x: Value): Value {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    if (h % 2 || w % 2) throw new GraphError(`maxPool2 needs even sizes, got ${shapeStr(x.shape)}`);
    return this.emit('MaxPool', [x], [n, c, h / 2, w / 2], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] });
  }

  /** Nearest-neighbour upsampling by an integer factor, built from Reshape+Expand so it differentiates. */
  upsampleNearest(x: Value, f: number): Value {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const a = this.reshape(x, [n, c, h, 1, w, 1]);
    const b = this.expand(a, [n, c, h, f, w, f]);
    return this.reshape(b, [n, c, h * f, w * f]);
  }

  /**
   * DepthToSpace, DCR order (forward only: its gradient is not built): [N, b*b*C, H, W] ->
   * [N, C, b*H, b*W], output pixel (b*h + i, b*w + j) of channel c from input channel (i*b + j)*C + c.
   */
  depthToSpace(x: Value, blocksize: number): Value {
    if (x.shape.length !== 4) throw new GraphError(`DepthToSpace expects NCHW, got ${shapeStr(x.shape)}`);
    if (!Number.isInteger(blocksize) || blocksize < 1) throw new GraphError(`DepthToSpace: block size must be a positive integer, got ${blocksize}`);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const bb = blocksize * blocksize;
    if (c % bb !== 0) throw new GraphError(`DepthToSpace: ${shapeStr(x.shape)} has no multiple of ${bb} channels`);
    return this.emit('DepthToSpace', [x], [n, c / bb, h * blocksize, w * blocksize], { blocksize }, 'float32', { noGrad: true });
  }

  /** Bilinear resize (forward only: its gradient is not built). */
  resizeBilinear(x: Value, outH: number, outW: number): Value {
    const [n, c] = x.shape as [number, number];
    const sizes = this.int64([n, c, outH, outW]);
    const empty = this.constant(new Float32Array(0), [0]);
    return this.emit('Resize', [x, empty, empty, sizes], [n, c, outH, outW], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, 'float32', { noGrad: true });
  }

  identity(a: Value): Value {
    return this.emit('Identity', [a], a.shape, {}, a.dtype);
  }
}
