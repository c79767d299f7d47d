import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { decodePngRgb, encodeRgbPng } from '../../../src/core/util/png';

describe('RGB PNG', () => {
  it('round-trips interleaved RGB bytes exactly, as an RGB (colour type 2) file', () => {
    const width = 5;
    const height = 3;
    const data = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37 + 11) % 256);
    const file = encodeRgbPng({ data, width, height });
    // The PNG signature, then IHDR: width, height, bit depth 8, colour type 2.
    expect([...file.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
    expect([file.readUInt32BE(16), file.readUInt32BE(20), file[24], file[25]]).toEqual([5, 3, 8, 2]);
    const back = decodePngRgb(file);
    expect([back.width, back.height]).toEqual([5, 3]);
    expect([...back.data]).toEqual([...data]);
  });

  it('drops alpha when decoding an RGBA file, and refuses bytes that are not width x height RGB', () => {
    const rgba = new PNG({ width: 1, height: 2 });
    rgba.data.set([10, 20, 30, 0, 40, 50, 60, 255]);
    expect([...decodePngRgb(PNG.sync.write(rgba)).data]).toEqual([10, 20, 30, 40, 50, 60]);
    expect(() => encodeRgbPng({ data: new Uint8Array(5), width: 1, height: 2 })).toThrow('PNG: 5 bytes are not 1x2 RGB');
  });
});
