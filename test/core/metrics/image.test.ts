import { describe, expect, it } from 'vitest';
import {
  MSSSIM_WEIGHTS,
  msssim,
  msssimDetail,
  msssimScaleCount,
  psnr,
  psnrFloat,
  rgbToLuma,
  ssim,
  ssimPlane,
} from '../../../src/core/metrics';

/** A deterministic 8-bit hash, the same in the Python script that produced the scikit-image values below. */
const hash = (i: number) => ((Math.imul(i, 2654435761) >>> 0) >>> 16) & 255;

/** Gradient + hash texture (A), A with +-20 noise (B), A shifted left by one pixel (C). */
function referenceImages(w: number, h: number) {
  const A = new Uint8Array(w * h * 3);
  const B = new Uint8Array(w * h * 3);
  const C = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        A[i] = Math.min(255, Math.max(0, x * 3 + y * 2 + c * 20 + (hash(i) % 24)));
        B[i] = Math.min(255, Math.max(0, A[i]! + (hash(i + 7777) % 41) - 20));
      }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) C[(y * w + x) * 3 + c] = A[(y * w + Math.min(w - 1, x + 1)) * 3 + c]!;
  return { A, B, C };
}

/** A seeded uniform generator (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp8 = (v: number) => Math.min(255, Math.max(0, Math.round(v)));

function randomImage(w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256));
}

function addNoise(img: Uint8Array, amplitude: number, seed: number): Uint8Array {
  const r = rng(seed);
  return img.map((v) => clamp8(v + (r() * 2 - 1) * amplitude));
}

/** Textured test picture: soft shapes, stripes and fine noise, so blur has something to remove. */
function texturedImage(w: number, h: number): Uint8Array {
  const r = rng(99);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const base = 128 + 60 * Math.sin(x / 6) * Math.cos(y / 9) + ((x >> 3) + (y >> 3)) % 2 * 40 - 20;
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = clamp8(base + c * 10 + (r() - 0.5) * 50);
    }
  return out;
}

/** Separable box blur of radius `radius` (clamped edges), applied `passes` times. */
function boxBlur(img: Uint8Array, w: number, h: number, radius: number, passes = 2): Uint8Array {
  let cur = Float64Array.from(img);
  for (let p = 0; p < passes; p++) {
    for (const horizontal of [true, false]) {
      const next = new Float64Array(cur.length);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let k = -radius; k <= radius; k++) {
              const xx = horizontal ? Math.min(w - 1, Math.max(0, x + k)) : x;
              const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + k));
              s += cur[(yy * w + xx) * 3 + c]!;
            }
            next[(y * w + x) * 3 + c] = s / (2 * radius + 1);
          }
      cur = next;
    }
  }
  return Uint8Array.from(cur, clamp8);
}

/**
 * SSIM written straight from Wang et al. (2004), independent of the library:
 * for every position where the 11x11 window fits, a 2-D Gaussian weight table,
 * two-pass weighted means, variances and covariance, the SSIM formula; mean of the map.
 */
function naiveSsim(a: Uint8Array, b: Uint8Array, w: number, h: number): number {
  const Y = (img: Uint8Array, x: number, y: number) => {
    const i = (y * w + x) * 3;
    return 0.299 * img[i]! + 0.587 * img[i + 1]! + 0.114 * img[i + 2]!;
  };
  const win: number[][] = [];
  let total = 0;
  for (let i = 0; i < 11; i++) {
    win.push([]);
    for (let j = 0; j < 11; j++) {
      const v = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * 1.5 * 1.5));
      win[i]!.push(v);
      total += v;
    }
  }
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  let sum = 0;
  let count = 0;
  for (let y0 = 0; y0 + 11 <= h; y0++)
    for (let x0 = 0; x0 + 11 <= w; x0++) {
      let mx = 0, my = 0;
      for (let i = 0; i < 11; i++)
        for (let j = 0; j < 11; j++) {
          const g = win[i]![j]! / total;
          mx += g * Y(a, x0 + j, y0 + i);
          my += g * Y(b, x0 + j, y0 + i);
        }
      let vx = 0, vy = 0, cxy = 0;
      for (let i = 0; i < 11; i++)
        for (let j = 0; j < 11; j++) {
          const g = win[i]![j]! / total;
          const dx = Y(a, x0 + j, y0 + i) - mx;
          const dy = Y(b, x0 + j, y0 + i) - my;
          vx += g * dx * dx;
          vy += g * dy * dy;
          cxy += g * dx * dy;
        }
      sum += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      count++;
    }
  return sum / count;
}

describe('psnr', () => {
  const w = 32;
  const h = 24;
  const a = Uint8Array.from(randomImage(w, h, 1), (v) => Math.min(v, 250));

  it('gives 20 log10(255/5) for a constant offset of 5 (MSE 25)', () => {
    const b = a.map((v) => v + 5);
    expect(psnr(a, b, { width: w, height: h })).toBeCloseTo(20 * Math.log10(255 / 5), 10);
    expect(20 * Math.log10(255 / 5)).toBeCloseTo(34.1514, 4);
  });

  it('is +Infinity for identical frames and symmetric', () => {
    expect(psnr(a, a.slice())).toBe(Infinity);
    const b = addNoise(a, 10, 2);
    expect(psnr(a, b)).toBe(psnr(b, a));
  });

  it('drops 6.02 dB when the error doubles', () => {
    const b2 = a.map((v) => v + 2);
    const b4 = a.map((v) => v + 4);
    expect(psnr(a, b2) - psnr(a, b4)).toBeCloseTo(20 * Math.log10(2), 10);
  });

  it('measures only inside a region when given one', () => {
    const b = a.slice();
    // Offset 5 inside a 10x8 box at (4, 6); outside unchanged except one pixel far away.
    for (let y = 6; y < 14; y++) for (let x = 4; x < 14; x++) for (let c = 0; c < 3; c++) b[(y * w + x) * 3 + c] = a[(y * w + x) * 3 + c]! + 5;
    expect(psnr(a, b, { width: w, height: h, region: { x: 4, y: 6, width: 10, height: 8 } })).toBeCloseTo(20 * Math.log10(51), 10);
    expect(psnr(a, b, { width: w, height: h, region: { x: 20, y: 0, width: 12, height: 24 } })).toBe(Infinity);
    expect(() => psnr(a, b, { region: { x: 0, y: 0, width: 2, height: 2 } })).toThrow(/width and height/);
  });

  it('rejects frames of different sizes', () => {
    expect(() => psnr(a, a.subarray(3))).toThrow(RangeError);
    expect(() => psnr(a, a, { width: w + 1, height: h })).toThrow(RangeError);
  });

  it('psnrFloat on -1..1 images matches the 8-bit value of the same error', () => {
    const x = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i) * 0.9);
    const y = x.map((v) => v + (2 * 5) / 255);
    expect(psnrFloat(x, y)).toBeCloseTo(20 * Math.log10(255 / 5), 4);
    expect(psnrFloat(x, x.slice())).toBe(Infinity);
  });
});

describe('ssim', () => {
  it('matches scikit-image structural_similarity (gaussian, sigma 1.5, population covariance) on BT.601 luma', () => {
    // Values from scikit-image 0.26 on the luma of the same images, built in Python with the same formulas:
    //   h = lambda i: ((i * 2654435761) & 0xFFFFFFFF) >> 16 & 255
    //   A[y,x,c] = clip(x*3 + y*2 + c*20 + h(i) % 24); B = clip(A + h(i+7777) % 41 - 20); C[y,x] = A[y, min(W-1, x+1)]
    //   Y = lambda I: 0.299*I[...,0] + 0.587*I[...,1] + 0.114*I[...,2]   (float64)
    //   structural_similarity(Y(A), Y(B), gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    // (skimage's 11-tap Gaussian with reflect padding, cropped by 5, is exactly our valid filtering).
    const { A, B, C } = referenceImages(64, 48);
    expect(ssim(A, B, 64, 48)).toBeCloseTo(0.7574525741601367, 10);
    expect(ssim(A, C, 64, 48)).toBeCloseTo(0.7850507692323528, 10);
    // Single channel (the green plane) through the grey path.
    const g = (img: Uint8Array) => Uint8Array.from({ length: 64 * 48 }, (_, i) => img[i * 3 + 1]!);
    expect(ssim(g(A), g(B), 64, 48)).toBeCloseTo(0.5666699775504582, 10);
  });

  it('agrees with an independent naive implementation on a 16x16 image to 1e-6', () => {
    const a = randomImage(16, 16, 3);
    for (const amp of [5, 30, 90]) {
      const b = addNoise(a, amp, 4 + amp);
      expect(Math.abs(ssim(a, b, 16, 16) - naiveSsim(a, b, 16, 16))).toBeLessThan(1e-6);
    }
    const t = texturedImage(23, 17);
    const tb = boxBlur(t, 23, 17, 1);
    expect(Math.abs(ssim(t, tb, 23, 17) - naiveSsim(t, tb, 23, 17))).toBeLessThan(1e-6);
  });

  it('is 1 for identical images, symmetric, and decreases as noise grows', () => {
    const a = texturedImage(48, 40);
    expect(ssim(a, a.slice(), 48, 40)).toBeCloseTo(1, 12);
    const b = addNoise(a, 20, 5);
    expect(ssim(a, b, 48, 40)).toBeCloseTo(ssim(b, a, 48, 40), 12);
    const values = [2, 8, 20, 50, 120].map((amp) => ssim(a, addNoise(a, amp, 6), 48, 40));
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThan(values[i - 1]!);
    expect(values[0]!).toBeLessThan(1);
    expect(values[0]!).toBeGreaterThan(0.9);
  });

  it('uses luma: a grey frame gives the same value as its RGB copy', () => {
    const grey = randomImage(20, 20, 8).subarray(0, 400);
    const grey2 = addNoise(grey, 25, 9);
    const rgb = (g: Uint8Array) => Uint8Array.from({ length: g.length * 3 }, (_, i) => g[Math.floor(i / 3)]!);
    expect(ssim(rgb(grey), rgb(grey2), 20, 20)).toBeCloseTo(ssim(grey, grey2, 20, 20), 12);
    const l = rgbToLuma(Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255), 3, 1);
    expect(Array.from(l)).toEqual([0.299 * 255, 0.587 * 255, 0.114 * 255]);
  });

  it('shrinks the window for images smaller than 11 pixels', () => {
    const a = randomImage(8, 6, 10);
    const b = addNoise(a, 30, 11);
    const v = ssim(a, b, 8, 6);
    expect(v).toBeGreaterThan(0);
    expect(v).toBeLessThan(1);
    expect(ssim(a, a, 8, 6)).toBeCloseTo(1, 12);
    // 8x6 uses a 5x5 window: the same as asking for it explicitly.
    const ya = rgbToLuma(a, 8, 6);
    const yb = rgbToLuma(b, 8, 6);
    expect(v).toBeCloseTo(ssimPlane(ya, yb, 8, 6, { windowSize: 5 }).ssim, 12);
  });
});

describe('msssim', () => {
  const w = 128;
  const h = 112;
  const img = texturedImage(w, h);

  it('is 1 for identical images', () => {
    expect(msssim(img, img.slice(), w, h)).toBeCloseTo(1, 12);
  });

  it('is below 1 for a blurred image and falls as the blur grows', () => {
    const values = [1, 2, 3, 5].map((r) => msssim(img, boxBlur(img, w, h, r), w, h));
    expect(values[0]!).toBeLessThan(1);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThan(values[i - 1]!);
    // MS-SSIM forgives blur more than single-scale SSIM does (coarse scales barely change).
    const blurred = boxBlur(img, w, h, 2);
    expect(msssim(img, blurred, w, h)).toBeGreaterThan(ssim(img, blurred, w, h));
  });

  it('combines per-scale cs and the last-scale ssim with the standard weights', () => {
    const b = addNoise(img, 30, 12);
    const d = msssimDetail(img, b, w, h);
    // 128x112 -> 64x56 -> 32x28 -> 16x14: the fifth scale (8x7) would be smaller than the window.
    expect(d.scales.map((s) => [s.width, s.height])).toEqual([[128, 112], [64, 56], [32, 28], [16, 14]]);
    const used = MSSSIM_WEIGHTS.slice(0, 4);
    const sum = used.reduce((s, x) => s + x, 0);
    d.weights.forEach((wt, j) => expect(wt).toBeCloseTo(used[j]! / sum, 12));
    let expected = 1;
    d.scales.forEach((s, j) => (expected *= (j === 3 ? s.ssim : s.cs) ** d.weights[j]!));
    expect(d.value).toBeCloseTo(expected, 12);
    expect(msssim(img, b, w, h)).toBe(d.value);
  });

  it('uses all five scales when they fit, and plain SSIM when only one does', () => {
    expect(msssimScaleCount(1024, 1024)).toBe(5);
    expect(msssimScaleCount(176, 176)).toBe(5); // 176 / 16 = 11
    expect(msssimScaleCount(175, 400)).toBe(4);
    expect(msssimScaleCount(100, 100)).toBe(4); // 100, 50, 25, 12
    expect(msssimScaleCount(21, 64)).toBe(1);
    const big = texturedImage(176, 176);
    const d = msssimDetail(big, addNoise(big, 20, 13), 176, 176);
    expect(d.scales).toHaveLength(5);
    // All five fit: the published weights unchanged (they sum to 1.0001).
    expect(d.weights).toEqual([...MSSSIM_WEIGHTS]);
    const small = randomImage(16, 16, 14);
    const noisy = addNoise(small, 40, 15);
    expect(msssim(small, noisy, 16, 16)).toBeCloseTo(ssim(small, noisy, 16, 16), 12);
  });
});
