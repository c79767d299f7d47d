// The one table from op to attributes. Every node carries the typed attributes of its op:
// the facts the gradient rules read (axes, pads, permutation, kernel...) and, through
// ONNX_ATTRIBUTES, what the serialiser writes. Facts that ONNX takes as inputs (Reshape's
// shape, Slice's starts...) are attributes here too, so a rule never reads an input tensor.

export type AttrValue = number | number[] | string | { float: number };

export type Pair = [number, number];
export type Quad = [number, number, number, number];

export interface ConvAttrs {
  strides: Pair;
  /** top, left, bottom, right */
  pads: Quad;
  dilations: Pair;
  group: number;
  kernel_shape: Pair;
}

export interface ConvTransposeAttrs extends ConvAttrs {
  output_padding: Pair;
}

export interface PoolAttrs {
  kernel_shape: Pair;
  strides: Pair;
  /** top, left, bottom, right */
  pads: Quad;
}

type None = Record<never, never>;

export interface OpAttrs {
  Identity: None;
  Add: None;
  Sub: None;
  Mul: None;
  Div: None;
  Neg: None;
  Sqrt: None;
  Reciprocal: None;
  Exp: None;
  Log: None;
  Abs: None;
  Sign: None;
  Sigmoid: None;
  Tanh: None;
  Relu: None;
  Greater: None;
  LessOrEqual: None;
  GreaterOrEqual: None;
  Equal: None;
  And: None;
  Where: None;
  MatMul: None;
  /** The exponent is the op's second input, a constant scalar. */
  Pow: { exponent: number };
  LeakyRelu: { alpha: number };
  /** The bounds are the op's second and third inputs, constant scalars. */
  Clip: { lo: number; hi: number };
  Cast: { to: number };
  ReduceSum: { axes: number[]; keepdims: boolean };
  Reshape: { shape: number[] };
  Transpose: { perm: number[] };
  Expand: { shape: number[] };
  Slice: { axes: number[]; starts: number[]; ends: number[] };
  Concat: { axis: number };
  /** [begin per axis..., end per axis...], constant mode. */
  Pad: { pads: number[] };
  Conv: ConvAttrs;
  ConvTranspose: ConvTransposeAttrs;
  AveragePool: PoolAttrs;
  MaxPool: PoolAttrs;
  Resize: { mode: 'linear'; coordinate_transformation_mode: 'half_pixel' };
  BatchNormalization: { epsilon: number };
  /** Depth-column-row order (DCR, the only mode built): input channel (i * blocksize + j) * C + c goes to pixel (i, j) of channel c's block. */
  DepthToSpace: { blocksize: number };
}

export type OpName = keyof OpAttrs;

const none = (): Record<string, AttrValue> => ({});
const pool = (a: PoolAttrs): Record<string, AttrValue> => ({
  kernel_shape: [...a.kernel_shape],
  strides: [...a.strides],
  ...(a.pads.some((p) => p !== 0) ? { pads: [...a.pads] } : {})
});
const conv = (a: ConvAttrs): Record<string, AttrValue> => ({
  strides: [...a.strides],
  pads: [...a.pads],
  dilations: [...a.dilations],
  group: a.group,
  kernel_shape: [...a.kernel_shape]
});

/** The ONNX attributes each op writes, from its typed attributes. */
export const ONNX_ATTRIBUTES: { [K in OpName]: (a: OpAttrs[K]) => Record<string, AttrValue> } = {
  Identity: none,
  Add: none,
  Sub: none,
  Mul: none,
  Div: none,
  Neg: none,
  Sqrt: none,
  Reciprocal: none,
  Exp: none,
  Log: none,
  Abs: none,
  Sign: none,
  Sigmoid: none,
  Tanh: none,
  Relu: none,
  Greater: none,
  LessOrEqual: none,
  GreaterOrEqual: none,
  Equal: none,
  And: none,
  Where: none,
  MatMul: none,
  Pow: none,
  LeakyRelu: (a) => ({ alpha: { float: a.alpha } }),
  Clip: none,
  Cast: (a) => ({ to: a.to }),
  ReduceSum: (a) => ({ keepdims: a.keepdims ? 1 : 0 }),
  Reshape: none,
  Transpose: (a) => ({ perm: [...a.perm] }),
  Expand: none,
  Slice: none,
  Concat: (a) => ({ axis: a.axis }),
  Pad: () => ({ mode: 'constant' }),
  Conv: conv,
  ConvTranspose: (a) => ({ ...conv(a), output_padding: [...a.output_padding] }),
  AveragePool: pool,
  MaxPool: pool,
  Resize: (a) => ({ mode: a.mode, coordinate_transformation_mode: a.coordinate_transformation_mode }),
  BatchNormalization: (a) => ({ epsilon: { float: a.epsilon } }),
  DepthToSpace: (a) => ({ blocksize: a.blocksize, mode: 'DCR' })
};

export interface NodeOf<K extends OpName> {
  readonly op: K;
  readonly inputs: import('./graph').Value[];
  readonly output: import('./graph').Value;
  readonly attrs: OpAttrs[K];
  /** Built forward-only: asking for its gradient is an error. */
  readonly noGrad?: boolean;
}

/** A node of any op, discriminated by `op`. */
export type Node = { [K in OpName]: NodeOf<K> }[OpName];

export function onnxAttributes(n: Node): Record<string, AttrValue> {
  return (ONNX_ATTRIBUTES[n.op] as (a: Node['attrs']) => Record<string, AttrValue>)(n.attrs);
}
