// Reading PyTorch files without Python: torch zip checkpoints (archive/data.pkl + archive/data/N),
// legacy torch.save files (magic number, pickles, then the raw storages) and plain pickles whose
// tensors pickle themselves as torch.storage._load_from_bytes(<legacy torch.save bytes>), as the
// NVlabs network pickles do. Only the allow-listed globals below are understood; every other
// global is refused by name.
import { open, stat } from 'node:fs/promises';
import { CheckpointError } from './errors';
import { PickleCallable, tuple, unpickle } from './pickle';
import { ZipReader } from './zip';

export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const ELEMENT_SIZE: Record<TorchDtype, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

const STORAGE_TYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8'
};

/** A storage named by a persistent id; its bytes are loaded on demand. */
export class StorageRef {
  bytes: Uint8Array | null = null;
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number,
    readonly location: string,
    /** Loads the raw little-endian bytes (numel elements). */
    readonly load: () => Promise<Uint8Array>
  ) {}
  get nbytes(): number {
    return this.numel * ELEMENT_SIZE[this.dtype];
  }
}

class StorageType implements PickleCallable {
  constructor(readonly pyName: string, readonly dtype: TorchDtype) {}
}

/** A tensor as the file describes it; `data` converts it to a contiguous Float32Array (its storage must be loaded). */
export class TorchTensor {
  readonly kind = 'tensor';
  private cached: Float32Array | null = null;
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    public isParameter = false
  ) {}
  get dtype(): TorchDtype {
    return this.storage.dtype;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get data(): Float32Array {
    this.cached ??= toFloat32(this);
    return this.cached;
  }
}

export const isTensor = (v: unknown): v is TorchTensor => v instanceof TorchTensor;

/** An object of a torch_utils.persistence-decorated class (NVlabs): its class name and state, as data. */
export class PersistentObject {
  readonly kind = 'persistent-object';
  constructor(
    readonly className: string,
    readonly state: Map<unknown, unknown>,
    /** The class's Python source as carried by the pickle: kept as text, never run. */
    readonly moduleSrc: string,
    readonly version: number
  ) {}
  attr(name: string): unknown {
    return this.state.get(name);
  }
  private sub(kind: string): Map<unknown, unknown> {
    const m = this.state.get(kind);
    return m instanceof Map ? m : new Map();
  }
  get parameters(): Map<unknown, unknown> {
    return this.sub('_parameters');
  }
  get buffers(): Map<unknown, unknown> {
    return this.sub('_buffers');
  }
  get modules(): Map<unknown, unknown> {
    return this.sub('_modules');
  }
}

/** An instance of an allow-listed plain-data class (argparse.Namespace), as its attributes. */
export class DataObject {
  readonly kind = 'object';
  readonly attrs = new Map<unknown, unknown>();
  constructor(readonly className: string) {}
  setState(state: unknown): void {
    if (!(state instanceof Map)) throw new CheckpointError(`${this.className}: unexpected pickled state`);
    for (const [k, v] of state) this.attrs.set(k, v);
  }
}

/** A numpy scalar or array, converted to numbers. */
export interface NumpyValue {
  kind: 'numpy';
  dtype: string;
  shape: number[];
  data: Float64Array;
}

class NumpyDtype {
  order = '<';
  constructor(readonly code: string) {}
  setState(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.order = state[1];
  }
}

function numpyConvert(dt: NumpyDtype, raw: Uint8Array, count: number, where: string): Float64Array {
  const code = dt.code.replace(/^[<>=|]/, '');
  const little = dt.order !== '>';
  const size: Record<string, number> = { f8: 8, f4: 4, f2: 2, i8: 8, i4: 4, i2: 2, i1: 1, u8: 8, u4: 4, u2: 2, u1: 1, b1: 1 };
  const n = size[code];
  if (!n) throw new CheckpointError(`${where}: numpy dtype "${dt.code}" is not supported`);
  if (raw.length < n * count) throw new CheckpointError(`${where}: numpy data is shorter than its shape`);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const p = i * n;
    out[i] =
      code === 'f8' ? v.getFloat64(p, little) : code === 'f4' ? v.getFloat32(p, little) : code === 'f2' ? half(v.getUint16(p, little))
        : code === 'i8' ? Number(v.getBigInt64(p, little)) : code === 'u8' ? Number(v.getBigUint64(p, little))
          : code === 'i4' ? v.getInt32(p, little) : code === 'u4' ? v.getUint32(p, little) : code === 'i2' ? v.getInt16(p, little)
            : code === 'u2' ? v.getUint16(p, little) : code === 'i1' ? v.getInt8(p) : v.getUint8(p);
  }
  return out;
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function toFloat32(t: TorchTensor): Float32Array {
  const raw = t.storage.bytes;
  if (!raw) throw new CheckpointError(`tensor data of storage ${t.storage.key} was not loaded`);
  const n = t.numel;
  if (n === 0) return new Float32Array(0);
  // Bounds first, allocation after: the shape is the file's word, the storage is bytes we hold.
  // The largest element index the view touches must lie inside the storage, and a checkpoint
  // tensor never holds more elements than its storage (no expanded, stride-0 views).
  let maxIdx = t.offset;
  for (let d = 0; d < t.shape.length; d++) maxIdx += (t.shape[d]! - 1) * t.stride[d]!;
  if (t.offset < 0 || maxIdx >= t.storage.numel || t.stride.some((s) => s < 0) || n > t.storage.numel || raw.byteLength < t.storage.nbytes) {
    throw new CheckpointError(`tensor of shape [${t.shape}] lies outside its storage ${t.storage.key} (${t.storage.numel} elements): corrupt file`);
  }
  const out = new Float32Array(n);
  const es = ELEMENT_SIZE[t.dtype];
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const contiguous = t.shape.every((_, d) => t.stride[d] === t.shape.slice(d + 1).reduce((a, b) => a * b, 1) || t.shape[d] === 1);
  if (t.dtype === 'float32' && contiguous && HOST_LITTLE_ENDIAN) {
    const start = raw.byteOffset + t.offset * 4;
    return new Float32Array(raw.buffer.slice(start, start + n * 4));
  }
  const read = (i: number): number => {
    const p = i * es;
    switch (t.dtype) {
      case 'float32': return v.getFloat32(p, true);
      case 'float64': return v.getFloat64(p, true);
      case 'float16': return half(v.getUint16(p, true));
      case 'bfloat16': return new Float32Array(Uint32Array.of(v.getUint16(p, true) << 16).buffer)[0]!;
      case 'int64': return Number(v.getBigInt64(p, true));
      case 'int32': return v.getInt32(p, true);
      case 'int16': return v.getInt16(p, true);
      case 'int8': return v.getInt8(p);
      default: return v.getUint8(p);
    }
  };
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = t.offset;
  for (let k = 0; k < n; k++) {
    out[k] = read(src);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += t.stride[d]!;
      if (idx[d]! < t.shape[d]!) break;
      src -= t.stride[d]! * t.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

const int = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new CheckpointError(`${what} is not a non-negative integer`);
  return v;
};
const intList = (v: unknown, what: string): number[] => {
  if (!Array.isArray(v)) throw new CheckpointError(`${what} is not a tuple`);
  return v.map((x) => int(x, what));
};

function rebuildTensor(args: readonly unknown[], where: string): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new CheckpointError(`${where}: a tensor refers to something that is not a storage`);
  return new TorchTensor(storage, int(offset, `${where}: tensor offset`), intList(size, `${where}: tensor size`), intList(stride, `${where}: tensor stride`));
}

const fn = (pyName: string, call: (args: readonly unknown[]) => unknown): PickleCallable => ({ pyName, call });

interface GlobalContext {
  source: string;
  /** Parses legacy torch.save bytes embedded in the pickle (torch.storage._load_from_bytes). */
  loadFromBytes(b: Uint8Array): unknown;
  /**
   * Bytes that numpy arrays may still take once converted (8 per element). One pickled bytes object
   * can back any number of arrays (the memo), so without a bound a small file could ask for
   * gigabytes. One budget per file, shared by the streams embedded in it; unset only for
   * checkpointGlobals' tests of the interpreter.
   */
  numpyBytes?: { left: number };
}

/** A file's numpy budget: 8 bytes an element, at most 8 times the file (every float32 once, or every byte once), plus room for small files. */
const numpyBudget = (fileBytes: number): { left: number } => ({ left: 8 * fileBytes + 64 * 1024 ** 2 });

/** Counts `count` numpy elements against the file's budget, refusing a file that asks for more. */
function chargeNumpy(ctx: GlobalContext, count: number): void {
  if (!ctx.numpyBytes) return;
  ctx.numpyBytes.left -= count * 8;
  if (ctx.numpyBytes.left < 0) throw new CheckpointError(`${ctx.source}: its numpy arrays would take more memory than a file of its size can hold: a corrupt or hostile file, refused`);
}

/** The allow-list. Each entry is data-only: it builds values, it never reaches Python code. */
function allowList(ctx: GlobalContext): Map<string, unknown> {
  const where = ctx.source;
  const m = new Map<string, unknown>();
  const dict = (pyName: string): PickleCallable => ({
    pyName,
    call: (args) => {
      const d = new Map<unknown, unknown>();
      const items = args[0];
      if (Array.isArray(items)) for (const kv of items) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
      return d;
    },
    newobj: () => new Map()
  });
  m.set('collections.OrderedDict', dict('collections.OrderedDict'));
  m.set('dnnlib.util.EasyDict', dict('dnnlib.util.EasyDict'));
  for (const b of ['builtins', '__builtin__']) {
    const set = (name: string): PickleCallable => ({ pyName: `${b}.${name}`, call: (args) => new Set(Array.isArray(args[0]) ? args[0] : []) });
    m.set(`${b}.set`, set('set'));
    m.set(`${b}.frozenset`, set('frozenset'));
    m.set(`${b}.bytearray`, fn(`${b}.bytearray`, (args) => (args[0] instanceof Uint8Array ? args[0] : new Uint8Array(0))));
  }
  // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1').
  m.set('_codecs.encode', fn('_codecs.encode', (args) => {
    if (typeof args[0] !== 'string' || (args[1] !== 'latin1' && args[1] !== 'latin-1')) throw new CheckpointError(`${where}: _codecs.encode is only allowed for latin1 bytes`);
    return Uint8Array.from(args[0], (c) => c.charCodeAt(0) & 0xff);
  }));
  // A TensorFlow StyleGAN2 network (dnnlib.tflib.network.Network): its __setstate__ dict, as data.
  m.set('dnnlib.tflib.network.Network', { pyName: 'dnnlib.tflib.network.Network', newobj: () => new DataObject('dnnlib.tflib.network.Network') } satisfies PickleCallable);
  m.set('argparse.Namespace', { pyName: 'argparse.Namespace', newobj: () => new DataObject('argparse.Namespace'), call: () => new DataObject('argparse.Namespace') } satisfies PickleCallable);
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) {
    m.set(`torch.${name}`, new StorageType(`torch.${name}`, dtype));
    if (name === 'UntypedStorage') m.set('torch.storage.UntypedStorage', new StorageType('torch.storage.UntypedStorage', dtype));
  }
  for (const name of ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']) {
    m.set(`torch.${name}`, { pyName: `torch.${name}` } satisfies PickleCallable);
  }
  m.set('torch.Tensor', { pyName: 'torch.Tensor' } satisfies PickleCallable);
  m.set('torch.nn.parameter.Parameter', { pyName: 'torch.nn.parameter.Parameter' } satisfies PickleCallable);
  m.set('torch.Size', fn('torch.Size', (args) => tuple([...intList(args[0], `${where}: torch.Size`)])));
  m.set('torch.device', fn('torch.device', (args) => String(args[0])));
  m.set('torch._utils._rebuild_tensor_v2', fn('torch._utils._rebuild_tensor_v2', (args) => rebuildTensor(args, where)));
  m.set('torch._utils._rebuild_tensor', fn('torch._utils._rebuild_tensor', (args) => rebuildTensor(args, where)));
  const param = (args: readonly unknown[]): TorchTensor => {
    if (!(args[0] instanceof TorchTensor)) throw new CheckpointError(`${where}: a parameter wraps something that is not a tensor`);
    args[0].isParameter = true;
    return args[0];
  };
  m.set('torch._utils._rebuild_parameter', fn('torch._utils._rebuild_parameter', param));
  m.set('torch._utils._rebuild_parameter_with_state', fn('torch._utils._rebuild_parameter_with_state', param));
  m.set('torch._tensor._rebuild_from_type_v2', fn('torch._tensor._rebuild_from_type_v2', (args) => {
    const [func, type, inner] = args;
    const f = func as PickleCallable;
    const t = type as PickleCallable;
    if (!f?.call || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(t?.pyName) || !Array.isArray(inner)) {
      throw new CheckpointError(`${where}: _rebuild_from_type_v2 with an unsupported tensor type`);
    }
    return f.call(inner);
  }));
  m.set('torch.storage._load_from_bytes', fn('torch.storage._load_from_bytes', (args) => {
    if (!(args[0] instanceof Uint8Array)) throw new CheckpointError(`${where}: _load_from_bytes without bytes`);
    return ctx.loadFromBytes(args[0]);
  }));
  for (const np of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    m.set(`${np}.scalar`, fn(`${np}.scalar`, (args): NumpyValue => {
      const [dt, raw] = args;
      if (!(dt instanceof NumpyDtype)) throw new CheckpointError(`${where}: numpy scalar without a dtype`);
      const b = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? Uint8Array.from(raw, (c) => c.charCodeAt(0) & 0xff) : null;
      if (!b) throw new CheckpointError(`${where}: numpy scalar without data`);
      chargeNumpy(ctx, 1);
      return { kind: 'numpy', dtype: dt.code, shape: [], data: numpyConvert(dt, b, 1, where) };
    }));
    m.set(`${np}._reconstruct`, fn(`${np}._reconstruct`, () => new NumpyArray(where, (n) => chargeNumpy(ctx, n))));
  }
  m.set('numpy.ndarray', { pyName: 'numpy.ndarray' } satisfies PickleCallable);
  m.set('numpy.dtype', fn('numpy.dtype', (args) => {
    if (typeof args[0] !== 'string') throw new CheckpointError(`${where}: numpy.dtype without a type code`);
    return new NumpyDtype(args[0]);
  }));
  m.set('torch_utils.persistence._reconstruct_persistent_obj', fn('torch_utils.persistence._reconstruct_persistent_obj', (args) => {
    const meta = args[0];
    if (!(meta instanceof Map) || meta.get('type') !== 'class' || typeof meta.get('class_name') !== 'string' || !(meta.get('state') instanceof Map)) {
      throw new CheckpointError(`${where}: a persistent object has unexpected metadata (only persistent classes with a state dict are supported)`);
    }
    return new PersistentObject(meta.get('class_name') as string, meta.get('state') as Map<unknown, unknown>, String(meta.get('module_src') ?? ''), Number(meta.get('version') ?? 0));
  }));
  return m;
}

/** numpy.ndarray built by _reconstruct + BUILD((version, shape, dtype, fortran, raw)). */
class NumpyArray implements NumpyValue {
  readonly kind = 'numpy';
  dtype = '';
  shape: number[] = [];
  data: Float64Array = new Float64Array(0);
  constructor(
    private readonly where: string,
    private readonly charge: (count: number) => void = () => {}
  ) {}
  setState(state: unknown): void {
    if (!Array.isArray(state) || state.length < 5) throw new CheckpointError(`${this.where}: unexpected numpy array state`);
    const [, shape, dt, fortran, raw] = state;
    if (!(dt instanceof NumpyDtype) || fortran) throw new CheckpointError(`${this.where}: unsupported numpy array (object or Fortran-ordered)`);
    this.shape = intList(shape, `${this.where}: numpy shape`);
    this.charge(this.shape.reduce((a, c) => a * c, 1));
    this.dtype = dt.code;
    const b = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? Uint8Array.from(raw, (c) => c.charCodeAt(0) & 0xff) : null;
    if (!b) throw new CheckpointError(`${this.where}: numpy array without raw data`);
    this.data = numpyConvert(dt, b, this.shape.reduce((a, c) => a * c, 1), this.where);
  }
}

/**
 * The globals a checkpoint pickle may name, resolved through the allow-list, for a pickle
 * that embeds no legacy torch.save bytes (exported for tests of the interpreter).
 */
export function checkpointGlobals(source: string): (module: string, name: string) => unknown {
  return findGlobalIn(
    allowList({
      source,
      loadFromBytes: () => {
        throw new CheckpointError(`${source}: embedded torch.save bytes are not expected here`);
      }
    }),
    source
  );
}

function findGlobalIn(allowed: Map<string, unknown>, source: string): (module: string, name: string) => unknown {
  return (module, name) => {
    const key = `${module}.${name}`;
    const v = allowed.get(key);
    if (v === undefined) {
      throw new CheckpointError(`${source}: refusing global "${key}": it is not on the allow-list of data types a model checkpoint needs, so the file was not loaded (nothing from it was run). The file may be malicious, or a whole pickled Python object rather than weights.`);
    }
    return v;
  };
}

function storageFromPid(pid: unknown, where: string, data: (key: string, nbytes: number) => () => Promise<Uint8Array>): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage') {
    const kind = Array.isArray(pid) ? String(pid[0]) : typeof pid;
    throw new CheckpointError(`${where}: unsupported persistent id "${kind}"${kind === 'module' ? ' (the file pickles a whole nn.Module; save its state_dict instead)' : ''}`);
  }
  const type = pid[1];
  if (!(type instanceof StorageType)) throw new CheckpointError(`${where}: a storage has an unknown type`);
  const key = String(pid[2]);
  const location = String(pid[3]);
  const numel = int(pid[4], `${where}: storage size`);
  // UntypedStorage counts bytes; its tensors' dtype comes from the storage type only in typed files.
  const ref: StorageRef = new StorageRef(key, type.dtype, numel, location, data(key, numel * ELEMENT_SIZE[type.dtype]));
  return ref;
}

const MAGIC = 0x1950a86a20f9469cfc6cn;

/**
 * Storages saved inside a pickle (torch.storage._load_from_bytes) hold one torch.save stream each;
 * a stream inside one of those is refused. Each level copies its bytes, so a file nesting streams
 * a thousand deep would take a thousand times its size in memory before the stack ran out.
 */
const MAX_EMBEDDED_LEVELS = 2;
function embeddedLevel(nesting: number, source: string): number {
  if (nesting + 1 > MAX_EMBEDDED_LEVELS) throw new CheckpointError(`${source}: storages nested more than ${MAX_EMBEDDED_LEVELS} deep (torch.save streams inside saved storages); no real checkpoint does this`);
  return nesting + 1;
}

/** Parses a legacy (non-zip) torch.save stream held in memory. */
function parseLegacy(buf: Uint8Array, source: string, allowed: (ctx: GlobalContext) => Map<string, unknown>, budget: { left: number }, nesting = 0): unknown {
  const ctx: GlobalContext = { source, loadFromBytes: (b) => parseLegacy(b, `${source} (embedded storage)`, allowed, budget, embeddedLevel(nesting, source)), numpyBytes: budget };
  const findGlobal = findGlobalIn(allowed(ctx), source);
  let pos = 0;
  const magic = unpickle(buf, { findGlobal, source }, pos);
  if (BigInt(magic.value as number | bigint) !== MAGIC) throw new CheckpointError(`${source}: not a torch.save file (bad magic number)`);
  const proto = unpickle(buf, { findGlobal, source }, magic.end);
  if (proto.value !== 1001) throw new CheckpointError(`${source}: unsupported legacy torch format version ${String(proto.value)}`);
  const sys = unpickle(buf, { findGlobal, source }, proto.end);
  if (sys.value instanceof Map && sys.value.get('little_endian') === false) throw new CheckpointError(`${source}: big-endian torch files are not supported`);
  const refs = new Map<string, StorageRef>();
  const obj = unpickle(buf, {
    findGlobal,
    source,
    persistentLoad: (pid) => {
      const key = Array.isArray(pid) ? String(pid[2]) : '';
      let r = refs.get(key);
      if (!r) {
        r = storageFromPid(pid, source, () => async () => r!.bytes ?? new Uint8Array(0));
        refs.set(key, r);
      }
      const view = Array.isArray(pid) ? pid[5] : null;
      if (view !== null && view !== undefined) throw new CheckpointError(`${source}: storage views of the pre-1.0 torch format are not supported`);
      return r;
    }
  }, sys.end);
  const keys = unpickle(buf, { findGlobal, source }, obj.end);
  if (!Array.isArray(keys.value)) throw new CheckpointError(`${source}: legacy torch file without a storage key list`);
  pos = keys.end;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const k of keys.value) {
    const r = refs.get(String(k));
    if (pos + 8 > buf.length) throw new CheckpointError(`${source}: the storage data is truncated`);
    const numel = Number(view.getBigInt64(pos, true));
    pos += 8;
    if (!r) throw new CheckpointError(`${source}: storage ${String(k)} is listed but never used`);
    const nbytes = numel * ELEMENT_SIZE[r.dtype];
    if (numel !== r.numel || pos + nbytes > buf.length) throw new CheckpointError(`${source}: storage ${String(k)} is truncated or has the wrong size`);
    r.bytes = buf.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  for (const r of refs.values()) if (!r.bytes) throw new CheckpointError(`${source}: storage ${r.key} has no data`);
  return obj.value;
}

export interface OpenedFile {
  format: 'torch-zip' | 'torch-legacy' | 'pickle';
  root: unknown;
  /** Loads the bytes of the storages behind these tensors (all storages when omitted). */
  load(tensors?: Iterable<TorchTensor>): Promise<void>;
  close(): Promise<void>;
}

const MAX_PICKLE_BYTES = 1024 ** 3;
const MAX_IN_MEMORY = 2 ** 31 - 1;

/** Opens a torch zip checkpoint, a legacy torch.save file or a plain pickle; nothing from it runs. */
export async function openTorchFile(file: string): Promise<OpenedFile> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new CheckpointError(`cannot open ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  const head = Buffer.alloc(4);
  await fh.read(head, 0, 4, 0);
  const size = (await fh.stat()).size;
  if (head.readUInt32LE(0) === 0x04034b50) {
    await fh.close();
    return openZip(file);
  }
  try {
    if (size > MAX_IN_MEMORY) throw new CheckpointError(`${file} is ${size} bytes; pickles over 2 GiB are not supported`);
    if (head[0] !== 0x80 && head[0] !== 0x28 && head[0] !== 0x7d) {
      throw new CheckpointError(`${file} is neither a PyTorch checkpoint (zip or legacy) nor a pickle`);
    }
    const buf = Buffer.alloc(size);
    const { bytesRead } = await fh.read(buf, 0, size, 0);
    if (bytesRead !== size) throw new CheckpointError(`${file}: short read`);
    return openInMemory(file, buf);
  } finally {
    await fh.close();
  }
}

function collectTensors(root: unknown): TorchTensor[] {
  const out: TorchTensor[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (v instanceof TorchTensor) out.push(v);
    else if (v instanceof Map) for (const x of v.values()) walk(x);
    else if (Array.isArray(v) || v instanceof Set) for (const x of v) walk(x);
    else if (v instanceof PersistentObject) walk(v.state);
    else if (v instanceof DataObject) walk(v.attrs);
  };
  walk(root);
  return out;
}

function openInMemory(file: string, buf: Uint8Array): OpenedFile {
  const ctxAllowed = (ctx: GlobalContext) => allowList(ctx);
  // A legacy torch.save file starts with the pickled magic number.
  const isLegacy = buf.length > 12 && buf[0] === 0x80 && buf[2] === 0x8a && buf[3] === 0x0a && Buffer.from(buf.subarray(4, 14)).equals(Buffer.from('6cfc9c46f9206aa85019', 'hex'));
  if (isLegacy) {
    const root = parseLegacy(buf, file, ctxAllowed, numpyBudget(buf.length), 0);
    return { format: 'torch-legacy', root, load: async () => {}, close: async () => {} };
  }
  // A plain pickle's arrays live in it (a TensorFlow pickle's variables).
  const budget = numpyBudget(buf.length);
  const ctx: GlobalContext = { source: file, loadFromBytes: (b) => parseLegacy(b, `${file} (embedded storage)`, ctxAllowed, budget, 1), numpyBytes: budget };
  const { value } = unpickle(buf, { findGlobal: findGlobalIn(allowList(ctx), file), source: file });
  return { format: 'pickle', root: value, load: async () => {}, close: async () => {} };
}

async function openZip(file: string): Promise<OpenedFile> {
  const zip = await ZipReader.open(file);
  try {
    const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (!pkl) throw new CheckpointError(`${file} is a zip archive but not a PyTorch checkpoint (no <archive>/data.pkl)`);
    const prefix = pkl.slice(0, -'data.pkl'.length);
    let byteorder = 'little';
    if (zip.entries.has(`${prefix}byteorder`)) byteorder = (await zip.read(`${prefix}byteorder`, 16)).toString('latin1').trim();
    if (byteorder !== 'little') throw new CheckpointError(`${file}: byte order "${byteorder}" is not supported (little-endian only)`);
    const data = await zip.read(pkl, MAX_PICKLE_BYTES);
    const budget = numpyBudget((await stat(file)).size);
    const ctx: GlobalContext = { source: file, loadFromBytes: (b) => parseLegacy(b, `${file} (embedded storage)`, allowList, budget, 1), numpyBytes: budget };
    const refs = new Map<string, StorageRef>();
    const { value } = unpickle(data, {
      findGlobal: findGlobalIn(allowList(ctx), file),
      source: file,
      persistentLoad: (pid) => {
        const key = Array.isArray(pid) ? String(pid[2]) : '';
        let r = refs.get(key);
        if (!r) {
          r = storageFromPid(pid, file, (k, nbytes) => async () => {
            const name = `${prefix}data/${k}`;
            const b = await zip.read(name, nbytes);
            if (b.length !== nbytes) throw new CheckpointError(`${file}: storage ${name} has ${b.length} bytes, expected ${nbytes}`);
            return b;
          });
          refs.set(key, r);
        }
        return r;
      }
    });
    for (const r of refs.values()) {
      const e = zip.entries.get(`${prefix}data/${r.key}`);
      if (!e) throw new CheckpointError(`${file}: storage ${prefix}data/${r.key} is missing from the archive (the file is truncated or corrupt)`);
    }
    return {
      format: 'torch-zip',
      root: value,
      load: async (tensors) => {
        const wanted = new Set<StorageRef>();
        for (const t of tensors ?? collectTensors(value)) wanted.add(t.storage);
        for (const r of wanted) r.bytes ??= await r.load();
      },
      close: () => zip.close()
    };
  } catch (e) {
    await zip.close();
    throw e;
  }
}

/** Reads a torch file or pickle into plain data; tensors are TorchTensor with `data` as Float32Array. */
export async function readTorchFile(path: string): Promise<unknown> {
  await stat(path).catch(() => {
    throw new CheckpointError(`cannot read ${path}: no such file`);
  });
  const f = await openTorchFile(path);
  try {
    await f.load();
    for (const t of collectTensors(f.root)) void t.data;
    return f.root;
  } finally {
    await f.close();
  }
}

/** Every tensor of the tree by its dotted path (state dicts nested in dicts or NVlabs modules). */
export function flattenTensors(root: unknown): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string): void => {
    if (v instanceof TorchTensor) {
      if (!out.has(path)) out.set(path, v);
      return;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    const join = (k: unknown): string => (path ? `${path}.${String(k)}` : String(k));
    if (v instanceof Map) for (const [k, x] of v) walk(x, join(k));
    else if (v instanceof PersistentObject) {
      for (const [k, x] of v.parameters) walk(x, join(k));
      for (const [k, x] of v.buffers) walk(x, join(k));
      for (const [k, x] of v.modules) walk(x, join(k));
    }
  };
  walk(root, '');
  return out;
}

/** A plain state dict (e.g. torchvision VGG16, LPIPS heads) as name -> shape and float32 data. */
export async function readStateDict(path: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const root = await readTorchFile(path);
  let dict = root;
  // common wrappers: {'state_dict': ...}, {'model': ...}
  if (root instanceof Map && !flattenTensors(root).size) throw new CheckpointError(`${path} holds no tensors`);
  if (root instanceof Map) {
    for (const k of ['state_dict', 'model']) {
      const v = root.get(k);
      if (v instanceof Map && [...v.values()].some(isTensor)) dict = v;
    }
  }
  const flat = flattenTensors(dict);
  if (!flat.size) throw new CheckpointError(`${path} holds no tensors`);
  return new Map([...flat].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
}
