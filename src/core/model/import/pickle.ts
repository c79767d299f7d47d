// A pickle interpreter that only builds data. It understands the opcodes of protocols 0 to 5;
// every GLOBAL goes through the caller's allow-list, which returns a data-only stand-in
// (a PickleCallable) or refuses. Nothing from the file is ever imported or run.
//
// Python values become: None -> null, bool -> boolean, int -> number (bigint when beyond 2^53),
// float -> number, str -> string, bytes -> Uint8Array, list -> array, tuple -> frozen array,
// dict -> Map, set -> Set.
import { CheckpointError } from './errors';

/** A data-only stand-in for an allow-listed global. */
export interface PickleCallable {
  readonly pyName: string;
  /** REDUCE: f(*args). */
  call?(args: readonly unknown[]): unknown;
  /** NEWOBJ: cls.__new__(cls, *args). */
  newobj?(args: readonly unknown[]): unknown;
}

/** Objects that accept BUILD (the __setstate__ step). */
export interface Buildable {
  setState(state: unknown): void;
}

export interface UnpickleOptions {
  /** The allow-list: returns a stand-in for module.name or throws a CheckpointError naming it. */
  findGlobal(module: string, name: string): unknown;
  persistentLoad?(pid: unknown): unknown;
  /** For error messages. */
  source: string;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just after the STOP opcode. */
  end: number;
}

const MARK = Symbol('mark');
const MAX_MEMO = 50_000_000;
const MAX_STACK = 10_000_000;

/** Attributes that BUILD gave a dict (e.g. a state dict's _metadata), for callers that want them. */
export const dictAttributes = new WeakMap<Map<unknown, unknown>, Map<unknown, unknown>>();

export const isPickleCallable = (v: unknown): v is PickleCallable => typeof v === 'object' && v !== null && typeof (v as PickleCallable).pyName === 'string';
const isBuildable = (v: unknown): v is Buildable => typeof v === 'object' && v !== null && typeof (v as Buildable).setState === 'function';

export const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);

function intFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Python's repr-quoted string of protocol 0 STRING, for the escapes pickle writes. */
function unquote(s: string, src: string): Uint8Array {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) throw new CheckpointError(`${src}: malformed STRING opcode`);
  const body = s.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const n = body[++i];
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '0': 0 };
    if (n === 'x') {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n !== undefined && n in simple) out.push(simple[n]!);
    else throw new CheckpointError(`${src}: unsupported escape in STRING opcode`);
  }
  return Uint8Array.from(out);
}

function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) => String.fromCodePoint(parseInt((a ?? b)!, 16)));
}

export function unpickle(data: Uint8Array, opts: UnpickleOptions, start = 0): UnpickleResult {
  const src = opts.source;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = start;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (msg: string): never => {
    throw new CheckpointError(`${src}: ${msg} (pickle offset ${pos})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) fail('the pickle ends early: the file is truncated or corrupt');
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('a length is out of range');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(10, pos);
    if (end < 0) fail('the pickle ends early: the file is truncated or corrupt');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const textInt = (s: string): number | bigint => {
    if (!/^[+-]?\d+$/.test(s.trim())) fail('malformed integer in the pickle');
    const v = BigInt(s.trim());
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const push = (v: unknown): void => {
    if (stack.length >= MAX_STACK) fail('the pickle stack is implausibly deep');
    stack.push(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow: corrupt pickle');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow: corrupt pickle');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) fail('MARK missing: corrupt pickle');
    stack = prev!;
    return items;
  };
  const memoPut = (k: number, v: unknown): void => {
    if (memo.size >= MAX_MEMO && !memo.has(k)) fail('the pickle memo is implausibly large');
    memo.set(k, v);
  };
  const memoGet = (k: number): unknown => {
    if (!memo.has(k)) fail(`memo key ${k} is missing: corrupt pickle`);
    return memo.get(k);
  };
  const global = (module: string, name: string): unknown => opts.findGlobal(module, name);
  const callable = (f: unknown, what: string): PickleCallable => {
    if (!isPickleCallable(f)) fail(`${what} of something that is not an allowed callable`);
    return f as PickleCallable;
  };
  const reduce = (f: unknown, args: unknown): unknown => {
    const c = callable(f, 'REDUCE');
    if (!Array.isArray(args)) fail(`REDUCE of ${c.pyName} without an argument tuple`);
    if (!c.call) fail(`"${c.pyName}" may only be used as a type, not called`);
    return c.call!(args as unknown[]);
  };
  const newobj = (cls: unknown, args: unknown): unknown => {
    const c = callable(cls, 'NEWOBJ');
    if (!Array.isArray(args)) fail(`NEWOBJ of ${c.pyName} without an argument tuple`);
    if (!c.newobj) fail(`"${c.pyName}" cannot be instantiated here`);
    return c.newobj!(args as unknown[]);
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    if (!(d instanceof Map)) fail('SETITEM on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l) || Object.isFrozen(l)) fail('APPEND on something that is not a list');
    for (const it of items) (l as unknown[]).push(it);
  };
  const addItems = (s: unknown, items: unknown[]): void => {
    if (!(s instanceof Set)) fail('ADDITEMS on something that is not a set');
    for (const it of items) (s as Set<unknown>).add(it);
  };
  const persistent = (pid: unknown): unknown => {
    if (!opts.persistentLoad) fail('a persistent id appears, but this file kind has no persistent objects');
    return opts.persistentLoad!(pid);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) fail(`pickle protocol ${p} is newer than supported (5)`);
        break;
      }
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x49: { // INT
        const s = line();
        if (s === '00') push(false);
        else if (s === '01') push(true);
        else push(textInt(s));
        break;
      }
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x4c: { // LONG
        push(textInt(line().replace(/L$/, '')));
        break;
      }
      case 0x8a: // LONG1
        push(intFromBytes(bytes(u8())));
        break;
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        push(intFromBytes(bytes(n)));
        break;
      }
      case 0x46: // FLOAT
        push(parseFloat(line()));
        break;
      case 0x47: { // BINFLOAT (big-endian double)
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x53: // STRING (protocol 0: Python 2 str, read as latin-1 text)
        push(latin1.decode(unquote(line(), src)));
        break;
      case 0x54: { // BINSTRING
        const n = i32();
        push(latin1.decode(bytes(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(bytes(u8())));
        break;
      case 0x56: // UNICODE
        push(rawUnicodeEscape(line()));
        break;
      case 0x58: // BINUNICODE
        push(utf8.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8.decode(bytes(u64())));
        break;
      case 0x42: // BINBYTES
        push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(bytes(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        push(bytes(u64()).slice());
        break;
      case 0x97: // NEXT_BUFFER
        fail('out-of-band buffers (pickle protocol 5 NEXT_BUFFER) are not supported');
        break;
      case 0x98: // READONLY_BUFFER
        break;
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x64: { // DICT
        const d = new Map();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        addItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        push(new Set(popMark()));
        break;
      case 0x70: // PUT
        memoPut(Number(line()), top());
        break;
      case 0x71: // BINPUT
        memoPut(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size, top());
        break;
      case 0x67: // GET
        push(memoGet(Number(line())));
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        push(global(module as string, name as string));
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        fail('pickle extension codes (copyreg registry) are refused: they name globals indirectly');
        break;
      case 0x52: { // REDUCE
        const args = pop();
        const f = pop();
        push(reduce(f, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        push(newobj(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments is not supported');
        push(newobj(cls, args));
        break;
      }
      case 0x69: { // INST
        const module = line();
        const name = line();
        const cls = global(module, name);
        push(newobj(cls, tuple(popMark())));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        const cls = items.shift();
        push(newobj(cls, tuple(items)));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (isBuildable(obj)) obj.setState(state);
        else if (obj instanceof Map && (state === null || state instanceof Map)) {
          // Instance attributes of a dict subclass (OrderedDict._metadata of a state dict): kept aside.
          if (state instanceof Map && state.size) dictAttributes.set(obj, state);
        } else fail('BUILD on an object that does not accept state');
        break;
      }
      case 0x50: // PERSID
        push(persistent(line()));
        break;
      case 0x51: // BINPERSID
        push(persistent(pop()));
        break;
      default:
        fail(`unknown pickle opcode 0x${op.toString(16)}: the file is corrupt or not a pickle`);
    }
  }
}
