import { describe, expect, it } from 'vitest';
import { applyAffine, quadToAffine } from '../../../src/core/face/align';
import { faceMask } from '../../../src/core/face/mask';
import type { Affine } from '../../../src/core/face/types';
import { downscaleArea, levelOfDetail, pasteBack, warpToCrop } from '../../../src/core/face/warp';
import { rng } from './fixtures';

/** Channel k of pixel (i, j) is a linear function of the pixel's index, whole and within 0..255 for images up to 120 x 100: reproduced exactly by bilinear sampling. */
const lin = [
  (i: number, j: number) => i + j + 10,
  (i: number, j: number) => 230 - i - j,
  (i: number, j: number) => 2 * j + 20,
];
/** The same functions at a continuous point (pixel centres at + 0.5). */
const linAt = (k: number, x: number, y: number) => lin[k](x - 0.5, y - 0.5);

function gradient(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) for (let k = 0; k < 3; k++) out[(j * w + i) * 3 + k] = lin[k](i, j);
  return out;
}

function checker(w: number, h: number, cell: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) out.fill(((Math.floor(i / cell) + Math.floor(j / cell)) & 1) * 255, (j * w + i) * 3, (j * w + i) * 3 + 3);
  return out;
}

function randomImage(w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256));
}

const px = (img: Uint8Array, w: number, i: number, j: number, k = 0) => img[(j * w + i) * 3 + k];

describe('warpToCrop', () => {
  it('copies pixels exactly under a whole-pixel translation', () => {
    const img = randomImage(40, 30, 1);
    const A: Affine = [1, 0, 7, 0, 1, 5];
    const crop = warpToCrop(img, 40, 30, A, 16);
    for (let j = 0; j < 16; j++) for (let i = 0; i < 16; i++) for (let k = 0; k < 3; k++) expect(px(crop, 16, i, j, k)).toBe(px(img, 40, i + 7, j + 5, k));
  });

  it('matches analytic sampling of a linear gradient under rotation and scale (bilinear is exact on linear images)', () => {
    const w = 96;
    const h = 80;
    const img = gradient(w, h);
    const n = 32;
    // A 40-pixel-wide square turned by 0.4 rad, well inside the frame: scale 1.25 source px per crop px.
    const A = quadToAffine({ cx: 48.3, cy: 41.7, s: 20, theta: 0.4 }, n);
    const crop = warpToCrop(img, w, h, A, n);
    let worst = 0;
    for (let j = 0; j < n; j++)
      for (let i = 0; i < n; i++) {
        const [x, y] = applyAffine(A, i + 0.5, j + 0.5);
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(px(crop, n, i, j, k) - linAt(k, x, y)));
      }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-9); // rounding to bytes only
  });

  it('interpolates a checkerboard bilinearly between pixel centres', () => {
    const img = checker(8, 8, 1);
    // Half-pixel shift: every crop pixel centre sits on a source pixel corner -> mean of 2x2 = 127.5 -> 128.
    const crop = warpToCrop(img, 8, 8, [1, 0, 0.5, 0, 1, 0.5], 6);
    for (let j = 0; j < 6; j++) for (let i = 0; i < 6; i++) expect(px(crop, 6, i, j)).toBe(128);
    // Quarter-pixel shift in x only: 0.75 * this + 0.25 * right neighbour.
    const c2 = warpToCrop(img, 8, 8, [1, 0, 0.25, 0, 1, 0], 6);
    for (let j = 0; j < 6; j++)
      for (let i = 0; i < 6; i++) expect(px(c2, 6, i, j)).toBe(Math.round(0.75 * px(img, 8, i, j) + 0.25 * px(img, 8, i + 1, j)));
  });

  it('reflects about the frame border (half-sample symmetric), or clamps, or gives zero', () => {
    const w = 10;
    const img = randomImage(w, 4, 2);
    const A: Affine = [1, 0, -4, 0, 1, 0];
    const reflect = warpToCrop(img, w, 4, A, 8);
    const clamp = warpToCrop(img, w, 4, A, 8, { edge: 'clamp' });
    const zero = warpToCrop(img, w, 4, A, 8, { edge: 'zero' });
    for (let i = 0; i < 8; i++) {
      const s = i - 4;
      expect(px(reflect, 8, i, 1)).toBe(px(img, w, s < 0 ? -s - 1 : s, 1));
      expect(px(clamp, 8, i, 1)).toBe(px(img, w, Math.max(0, s), 1));
      expect(px(zero, 8, i, 1)).toBe(s < 0 ? 0 : px(img, w, s, 1));
    }
    // Far outside, reflection is periodic with period 2w.
    const far = warpToCrop(img, w, 4, [1, 0, 2 * w, 0, 1, 0], 4);
    for (let i = 0; i < 4; i++) expect(px(far, 4, i, 0)).toBe(px(img, w, i, 0));
  });

  it('area-averages when downscaling by 2 on the pixel grid', () => {
    const img = randomImage(32, 32, 3);
    const crop = warpToCrop(img, 32, 32, [2, 0, 0, 0, 2, 0], 16);
    for (let j = 0; j < 16; j++)
      for (let i = 0; i < 16; i++) {
        const mean = (px(img, 32, 2 * i, 2 * j) + px(img, 32, 2 * i + 1, 2 * j) + px(img, 32, 2 * i, 2 * j + 1) + px(img, 32, 2 * i + 1, 2 * j + 1)) / 4;
        expect(Math.abs(px(crop, 16, i, j) - mean)).toBeLessThanOrEqual(0.5);
      }
  });

  it('does not alias a fine checkerboard squeezed 4x and 5.3x (rotated), where plain bilinear does', () => {
    const img = checker(256, 256, 1);
    for (const A of [
      [4, 0, 0.45, 0, 4, 0.45] as Affine,
      quadToAffine({ cx: 128, cy: 128, s: 85, theta: 0.3 }, 32),
    ]) {
      const good = warpToCrop(img, 256, 256, A, 32);
      const bad = warpToCrop(img, 256, 256, A, 32, { antialias: false });
      let worstGood = 0;
      let worstBad = 0;
      for (let i = 0; i < 32 * 32; i++) {
        worstGood = Math.max(worstGood, Math.abs(good[3 * i] - 127.5));
        worstBad = Math.max(worstBad, Math.abs(bad[3 * i] - 127.5));
      }
      expect(worstGood).toBeLessThan(8);
      expect(worstBad).toBeGreaterThan(60);
    }
  });

  it('filters only the region it reads, with the same result as filtering the whole frame', () => {
    // The same 64x64 picture alone (the crop reads most of it: whole-frame pyramid) and inside a
    // 320x320 frame at an offset on the mip grid (the crop reads a small part: region pyramid).
    const small = randomImage(64, 64, 6);
    const big = new Uint8Array(320 * 320 * 3);
    for (let j = 0; j < 64; j++) big.set(small.subarray(j * 64 * 3, (j + 1) * 64 * 3), ((j + 128) * 320 + 64) * 3);
    const q = { cx: 31.3, cy: 33.1, s: 20, theta: 0.3 }; // inside the 64x64 picture
    const A = quadToAffine(q, 16); // 2.5 source px per crop px: levels 1 and 2
    const B = quadToAffine({ ...q, cx: q.cx + 64, cy: q.cy + 128 }, 16);
    const a = warpToCrop(small, 64, 64, A, 16);
    const b = warpToCrop(big, 320, 320, B, 16);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThanOrEqual(1); // coordinates rounded differently, nothing else
  });

  it('reflects like an explicitly mirrored frame, with anti-aliasing', () => {
    // Frame I (64 wide) and J = [mirror(I) | I] (128 wide): I reflected at x = 0 is J shifted by 64.
    const img = randomImage(64, 200, 7);
    const mirrored = new Uint8Array(128 * 200 * 3);
    for (let j = 0; j < 200; j++)
      for (let i = 0; i < 64; i++)
        for (let k = 0; k < 3; k++) {
          mirrored[(j * 128 + 64 + i) * 3 + k] = px(img, 64, i, j, k);
          mirrored[(j * 128 + 63 - i) * 3 + k] = px(img, 64, i, j, k);
        }
    const q = { cx: 6.4, cy: 100.2, s: 30, theta: -0.25 }; // reaches ~36 px left of the frame
    const a = warpToCrop(img, 64, 200, quadToAffine(q, 20), 20);
    const b = warpToCrop(mirrored, 128, 200, quadToAffine({ ...q, cx: q.cx + 64 }, 20), 20);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('changes level of detail continuously with scale', () => {
    expect(levelOfDetail(1)).toBe(0);
    expect(levelOfDetail(1.5)).toBe(0);
    expect(levelOfDetail(2)).toBeCloseTo(1, 12);
    expect(levelOfDetail(4)).toBeCloseTo(2, 12);
    let prev = 0;
    for (let s = 1; s < 9; s += 0.001) {
      const l = levelOfDetail(s);
      expect(l).toBeGreaterThanOrEqual(prev - 1e-12);
      expect(l - prev).toBeLessThan(0.01);
      prev = l;
    }
  });
});

describe('pasteBack', () => {
  it('round-trips a whole-pixel crop exactly with mask 1, and leaves the rest of the frame alone', () => {
    const w = 50;
    const h = 40;
    const img = randomImage(w, h, 4);
    const A: Affine = [1, 0, 11, 0, 1, 9];
    const crop = warpToCrop(img, w, h, A, 20);
    const blank = new Uint8Array(w * h * 3).fill(7);
    const out = pasteBack(blank, w, h, crop, 20, A, new Float32Array(400).fill(1));
    expect(blank.every((v) => v === 7)).toBe(true); // a copy, not in place
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) {
        const inside = i >= 11 && i < 31 && j >= 9 && j < 29;
        for (let k = 0; k < 3; k++) expect(px(out, w, i, j, k)).toBe(inside ? px(img, w, i, j, k) : 7);
      }
  });

  it('round-trips a rotated, scaled crop of a linear gradient to within 1 grey level', () => {
    const w = 120;
    const h = 100;
    const img = gradient(w, h);
    const n = 48;
    const A = quadToAffine({ cx: 60.2, cy: 49.6, s: 30, theta: -0.6 }, n);
    const crop = warpToCrop(img, w, h, A, n);
    const out = pasteBack(new Uint8Array(w * h * 3), w, h, crop, n, A, new Float32Array(n * n).fill(1));
    let worst = 0;
    let checked = 0;
    const c = Math.cos(0.6);
    const s = Math.sin(0.6);
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) {
        // Inside the quad by more than 2 pixels (rotate back into the quad's frame).
        const dx = i + 0.5 - 60.2;
        const dy = j + 0.5 - 49.6;
        const a = c * dx - s * dy;
        const b = s * dx + c * dy;
        if (Math.abs(a) > 28 || Math.abs(b) > 28) continue;
        checked++;
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(px(out, w, i, j, k) - px(img, w, i, j, k)));
      }
    expect(checked).toBeGreaterThan(2500);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('blends through the mask and changes nothing where it is 0', () => {
    const w = 64;
    const img = new Uint8Array(w * w * 3).fill(100);
    const crop = new Uint8Array(32 * 32 * 3).fill(200);
    const A = quadToAffine({ cx: 32, cy: 32, s: 16, theta: 0 }, 32);
    const mask = faceMask(32);
    const out = pasteBack(img, w, w, crop, 32, A, mask);
    // Scale 1, aligned: pixel (16+i, 16+j) takes mask value m(i, j).
    for (let j = 0; j < 32; j++)
      for (let i = 0; i < 32; i++) expect(Math.abs(px(out, w, 16 + i, 16 + j) - (100 + 100 * mask[j * 32 + i]))).toBeLessThanOrEqual(0.5 + 1e-4);
    expect(px(out, w, 0, 0)).toBe(100);
    expect(px(out, w, 16, 16)).toBe(100); // the mask is 0 on the crop's border
    const none = pasteBack(img, w, w, crop, 32, A, new Float32Array(32 * 32));
    expect(none).toEqual(img);
    // In place writes into the frame.
    const same = pasteBack(img, w, w, crop, 32, A, mask, { inPlace: true });
    expect(same).toBe(img);
    expect(px(img, w, 32, 32)).toBe(200);
  });

  it('anti-aliases a large crop pasted onto a small face', () => {
    const crop = checker(128, 128, 1);
    const A = quadToAffine({ cx: 40, cy: 40, s: 16, theta: 0.2 }, 128); // 128 crop px onto 32 frame px
    const out = pasteBack(new Uint8Array(80 * 80 * 3), 80, 80, crop, 128, A, new Float32Array(128 * 128).fill(1));
    let worst = 0;
    for (let j = 30; j < 50; j++) for (let i = 30; i < 50; i++) worst = Math.max(worst, Math.abs(px(out, 80, i, j) - 127.5));
    expect(worst).toBeLessThan(8);
  });

  it('checks buffer sizes', () => {
    expect(() => pasteBack(new Uint8Array(10), 2, 2, new Uint8Array(12), 2, [1, 0, 0, 0, 1, 0], new Float32Array(4))).toThrow(/12 values/);
  });
});

describe('downscaleArea', () => {
  it('averages whole blocks', () => {
    const img = randomImage(9, 7, 5);
    const { data, width, height } = downscaleArea(img, 9, 7, 3);
    expect([width, height]).toEqual([3, 2]);
    let s = 0;
    for (let j = 3; j < 6; j++) for (let i = 6; i < 9; i++) s += px(img, 9, i, j, 1);
    expect(px(data, 3, 2, 1, 1)).toBe(Math.round(s / 9));
  });
});
