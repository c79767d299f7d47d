// Raster.putRgb: an RGB image copied into the raster, clipped at its edges.
import { describe, expect, it } from 'vitest';
import { Raster } from '../../../src/core/metrics/raster';

/** A w x h RGB image whose pixel (x, y) is [x, y, tag]. */
function image(w: number, h: number, tag: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set([x, y, tag], (y * w + x) * 3);
  return out;
}

const at = (r: Raster, x: number, y: number) => Array.from(r.data.subarray((y * r.width + x) * 3, (y * r.width + x) * 3 + 3));

describe('Raster.putRgb', () => {
  it('copies the image with its top-left corner at (x, y) and leaves the rest', () => {
    const r = new Raster(6, 5, [9, 9, 9]);
    r.putRgb(image(3, 2, 7), 3, 2, 2, 1);
    expect(at(r, 2, 1)).toEqual([0, 0, 7]);
    expect(at(r, 4, 2)).toEqual([2, 1, 7]);
    expect(at(r, 1, 1)).toEqual([9, 9, 9]);
    expect(at(r, 5, 1)).toEqual([9, 9, 9]);
    expect(at(r, 2, 3)).toEqual([9, 9, 9]);
  });

  it('clips what falls outside on every side', () => {
    const r = new Raster(4, 4, [9, 9, 9]);
    r.putRgb(image(3, 3, 1), 3, 3, -1, -2);
    expect(at(r, 0, 0)).toEqual([1, 2, 1]);
    expect(at(r, 1, 0)).toEqual([2, 2, 1]);
    expect(at(r, 2, 0)).toEqual([9, 9, 9]);
    expect(at(r, 0, 1)).toEqual([9, 9, 9]);
    r.putRgb(image(3, 3, 2), 3, 3, 2, 3);
    expect(at(r, 2, 3)).toEqual([0, 0, 2]);
    expect(at(r, 3, 3)).toEqual([1, 0, 2]);
    expect(at(r, 1, 3)).toEqual([9, 9, 9]);
    r.putRgb(image(2, 2, 3), 2, 2, 4, 0);
    r.putRgb(image(2, 2, 3), 2, 2, -2, 0);
    expect(Array.from(r.data).filter((v, i) => i % 3 === 2 && v === 3)).toHaveLength(0);
  });

  it('rejects bytes that do not match the size', () => {
    expect(() => new Raster(4, 4).putRgb(new Uint8Array(11), 2, 2, 0, 0)).toThrow(/11 bytes for a 2x2 RGB image/);
  });
});
