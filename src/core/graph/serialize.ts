// Serialises a Graph to an ONNX ModelProto with the onnx-proto protobuf bindings.
// Only the nodes that the requested outputs need are written.
import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { AttrValue, DType, Graph, GraphError, Value } from './graph';
import { onnxAttributes } from './ops';

// onnx-proto is CommonJS; its namespace hangs off the default export.
const { onnx } = onnxProto;

export const OPSET = 17;

export interface GraphOutput {
  name: string;
  value: Value;
}

export interface SerializeOptions {
  /** Initializers to expose as graph inputs instead (weights for fine-tuning and weight gradients). */
  initializersAsInputs?: readonly string[];
  graphName?: string;
}

export interface SerializedModel {
  bytes: Uint8Array;
  /** sha256 of the bytes: the cache key for sessions and files. */
  hash: string;
  inputNames: string[];
  outputNames: string[];
}

const ELEM: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL
};

function attribute(name: string, v: AttrValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.float };
}

function valueInfo(name: string, v: Value): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } }
  };
}

function rawBytes(data: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  // ONNX raw_data is little-endian; every platform Node ships on is little-endian.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function serialize(g: Graph, outputs: readonly GraphOutput[], opts: SerializeOptions = {}): SerializedModel {
  if (outputs.length === 0) throw new GraphError('serialize: no outputs requested');
  const needed = new Set<number>();
  const nodeIdx: number[] = [];
  const stack = outputs.map((o) => o.value);
  const seenNode = new Set<number>();
  while (stack.length) {
    const v = stack.pop()!;
    if (needed.has(v.id)) continue;
    needed.add(v.id);
    if (v.producer >= 0 && !seenNode.has(v.producer)) {
      seenNode.add(v.producer);
      nodeIdx.push(v.producer);
      for (const inp of g.nodes[v.producer]!.inputs) stack.push(inp);
    }
  }
  nodeIdx.sort((a, b) => a - b);

  const asInputs = new Set(opts.initializersAsInputs ?? []);
  for (const name of asInputs) {
    const init = g.initializers.find((i) => i.name === name);
    if (!init) throw new GraphError(`serialize: no initializer named "${name}"`);
    if (g.baked.has(init.value.id)) {
      throw new GraphError(`serialize: "${name}" was folded into derived constants, so it cannot become an input; build it as trainable`);
    }
  }
  const nodes: OnnxTypes.INodeProto[] = nodeIdx.map((i) => {
    const n = g.nodes[i]!;
    return {
      name: `n${i}_${n.op}`,
      opType: n.op,
      input: n.inputs.map((v) => g.nameOf(v)),
      output: [g.nameOf(n.output)],
      attribute: Object.entries(onnxAttributes(n)).map(([k, v]) => attribute(k, v))
    };
  });
  const outputNames = outputs.map((o) => o.name);
  for (const o of outputs) {
    nodes.push({ name: `out_${o.name}`, opType: 'Identity', input: [g.nameOf(o.value)], output: [o.name] });
  }

  const inputs: OnnxTypes.IValueInfoProto[] = g.inputs.map((i) => valueInfo(i.name, i.value));
  const initializers: OnnxTypes.ITensorProto[] = [];
  for (const init of g.initializers) {
    if (!needed.has(init.value.id)) continue;
    if (asInputs.has(init.name)) {
      inputs.push(valueInfo(init.name, init.value));
      continue;
    }
    initializers.push({
      name: init.name,
      dims: [...init.value.shape],
      dataType: ELEM[init.value.dtype],
      rawData: rawBytes(init.data)
    });
  }

  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    producerName: 'stylecast',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: opts.graphName ?? 'stylecast',
      node: nodes,
      input: inputs,
      initializer: initializers,
      output: outputs.map((o) => valueInfo(o.name, o.value))
    }
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  const hash = createHash('sha256').update(bytes).digest('hex');
  return { bytes, hash, inputNames: inputs.map((i) => i.name!), outputNames };
}
