// The pickle interpreter on the same value pickled by CPython at protocols 0, 2 and 5
// (text opcodes, _codecs.encode bytes, builtins.set, frames, memoize, big ints).
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../../src/core/model/import';
import { unpickle } from '../../../../src/core/model/import/pickle';
import { checkpointGlobals } from '../../../../src/core/model/import/torch';

// pickle.dumps({'a': [1, 2.5, 'xé', -7, 2**70], 'b': (True, None, b'\x00\xff'), 'c': {3, 4}}, protocol=P)
const PICKLES: Record<number, string> = {
  0: '286470300a56610a70310a286c70320a49310a6146322e350a615678e90a70330a61492d370a614c313138303539313632303731373431313330333432344c0a617356620a70340a284930310a4e635f636f646563730a656e636f64650a70350a28565c7530303030ff0a70360a566c6174696e310a70370a7470380a5270390a747031300a7356630a7031310a635f5f6275696c74696e5f5f0a7365740a7031320a28286c7031330a49330a6149340a61747031340a527031350a732e',
  2: '80027d71002858010000006171015d7102284b01474004000000000000580300000078c3a971034af9ffffff8a09000000000000000040655801000000627104884e635f636f646563730a656e636f64650a7105580300000000c3bf710658060000006c6174696e31710786710852710987710a580100000063710b635f5f6275696c74696e5f5f0a7365740a710c5d710d284b034b046585710e52710f752e',
  5: '80059547000000000000007d94288c0161945d94284b014740040000000000008c0378c3a9944af9ffffff8a09000000000000000040658c016294884e430200ff9487948c0163948f94284b034b0490752e'
};

// The torch reader's own allow-list (_codecs.encode for protocol-2 bytes, builtins.set).
const findGlobal = checkpointGlobals('test');

describe('unpickle', () => {
  for (const [proto, hex] of Object.entries(PICKLES)) {
    it(`reads CPython's protocol ${proto} pickle`, () => {
      const { value, end } = unpickle(Buffer.from(hex, 'hex'), { findGlobal, source: 'test' });
      expect(end).toBe(hex.length / 2);
      const m = value as Map<string, unknown>;
      const a = m.get('a') as unknown[];
      // protocol 0 writes str as raw-unicode-escape; 'é' arrives as U+00E9 either way
      expect(a).toEqual([1, 2.5, 'xé', -7, 2n ** 70n]);
      const b = m.get('b') as unknown[];
      expect(Object.isFrozen(b)).toBe(true);
      expect(b[0]).toBe(true);
      expect(b[1]).toBeNull();
      expect([...(b[2] as Uint8Array)]).toEqual([0, 255]);
      expect([...(m.get('c') as Set<number>)].sort()).toEqual([3, 4]);
    });
  }

  it("refuses _codecs.encode with any codec but latin1", () => {
    // pickle.dumps(codecs.encode('x', 'utf8')) by hand: GLOBAL _codecs encode, ('x', 'utf8'), REDUCE
    // PROTO 2, GLOBAL '_codecs\nencode\n', BINUNICODE 'x', BINUNICODE 'utf8', TUPLE2, REDUCE, STOP
    const hex = '8002' + '635f636f646563730a656e636f64650a' + '580100000078' + '580400000075746638' + '8652' + '2e';
    expect(() => unpickle(Buffer.from(hex, 'hex'), { findGlobal, source: 't' })).toThrow(/only allowed for latin1/);
  });

  it('refuses corrupt input with a reason and an offset', () => {
    expect(() => unpickle(Buffer.from('80027d', 'hex'), { findGlobal, source: 't' })).toThrow(/ends early.*offset 3/);
    expect(() => unpickle(Buffer.from('80024aff', 'hex'), { findGlobal, source: 't' })).toThrow(/ends early/);
    expect(() => unpickle(Buffer.from('8002ff', 'hex'), { findGlobal, source: 't' })).toThrow(/unknown pickle opcode 0xff/);
    expect(() => unpickle(Buffer.from('800268002e', 'hex'), { findGlobal, source: 't' })).toThrow(/memo key 0 is missing/);
    expect(() => unpickle(Buffer.from('8002490a2e', 'hex'), { findGlobal, source: 't' })).toThrow(/malformed integer/);
  });
});
