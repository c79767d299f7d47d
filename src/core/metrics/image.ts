// Full-reference image metrics: PSNR, SSIM and MS-SSIM on 8-bit frames.
//
// Frames are interleaved bytes in row-major (HWC) order, as the video decoder
// produces them: RGB (3 bytes a pixel) is the normal case; grey (1) and RGBA
// (4, alpha ignored) are accepted by the SSIM family, which works on luma.

/** A rectangle in pixels: columns x .. x+width-1, rows y .. y+height-1. */
export interface PixelRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PsnrOptions {
  /** Peak signal value (default 255 for 8-bit). */
  peak?: number;
  /** Frame width in pixels: with `height`, checks the buffer size; needed by `region`. */
  width?: number;
  /** Frame height in pixels. */
  height?: number;
  /** Measure only inside this rectangle (for example the face box); needs width and height. */
  region?: PixelRegion;
}

/**
 * Mean squared error over every byte (every channel of every pixel) of two
 * equally sized 8-bit frames, in squared 8-bit units. With `region`, only the
 * pixels inside it count (the frames must be RGB, 3 bytes a pixel).
 */
export function mse(a: Uint8Array, b: Uint8Array, opts: PsnrOptions = {}): number {
  if (a.length !== b.length) throw new RangeError(`mse: frames differ in size (${a.length} vs ${b.length} bytes)`);
  const { width, height, region } = opts;
  if (width !== undefined && height !== undefined && a.length !== width * height * 3) {
    throw new RangeError(`mse: expected ${width}x${height}x3 = ${width * height * 3} bytes, got ${a.length}`);
  }
  if (region) {
    if (width === undefined || height === undefined) throw new RangeError('mse: a region needs width and height');
    const x0 = Math.max(0, Math.floor(region.x));
    const y0 = Math.max(0, Math.floor(region.y));
    const x1 = Math.min(width, Math.floor(region.x + region.width));
    const y1 = Math.min(height, Math.floor(region.y + region.height));
    if (x1 <= x0 || y1 <= y0) return NaN;
    let sum = 0;
    for (let y = y0; y < y1; y++) {
      for (let i = (y * width + x0) * 3, end = (y * width + x1) * 3; i < end; i++) {
        const d = a[i]! - b[i]!;
        sum += d * d;
      }
    }
    return sum / ((x1 - x0) * (y1 - y0) * 3);
  }
  if (a.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum / a.length;
}

/** PSNR in dB from a mean squared error: 10 log10(peak^2 / mse); +Infinity when mse is 0. */
export function psnrFromMse(meanSquaredError: number, peak = 255): number {
  if (Number.isNaN(meanSquaredError)) return NaN;
  if (meanSquaredError <= 0) return Infinity;
  return 10 * Math.log10((peak * peak) / meanSquaredError);
}

/**
 * Peak signal-to-noise ratio in dB between two 8-bit frames (RGB, HWC),
 * over all three channels together: 10 log10(255^2 / MSE).
 *
 * Convention: identical frames have MSE 0 and PSNR = +Infinity (not a capped
 * value such as 100 dB). Per-frame values are the unit of report; a clip's
 * PSNR is the mean of its finite per-frame values (see `summarise`), not the
 * PSNR of the clip's mean MSE.
 */
export function psnr(a: Uint8Array, b: Uint8Array, opts: PsnrOptions = {}): number {
  return psnrFromMse(mse(a, b, opts), opts.peak ?? 255);
}

/**
 * PSNR in dB between two float images in the generator's range -1..1 (any
 * layout, compared element by element). The peak-to-peak range is 2, so this
 * is 10 log10(4 / MSE): the same number the 8-bit PSNR gives for the images
 * mapped to 0..255 before rounding. +Infinity when the images are equal.
 */
export function psnrFloat(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`psnrFloat: images differ in size (${a.length} vs ${b.length})`);
  if (a.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return psnrFromMse(sum / a.length, 2);
}

// ---------------------------------------------------------------------------
// SSIM

/**
 * BT.601 luma of an 8-bit frame: Y = 0.299 R + 0.587 G + 0.114 B, kept in
 * float64 (0..255, no rounding). 1 byte a pixel is taken as grey already;
 * 4 bytes a pixel is RGBA with the alpha ignored.
 */
export function rgbToLuma(frame: Uint8Array, width: number, height: number): Float64Array {
  const n = width * height;
  const channels = frame.length / n;
  const y = new Float64Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) y[i] = frame[i]!;
  } else if (channels === 3 || channels === 4) {
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      y[i] = 0.299 * frame[j]! + 0.587 * frame[j + 1]! + 0.114 * frame[j + 2]!;
    }
  } else {
    throw new RangeError(`rgbToLuma: ${frame.length} bytes is not 1, 3 or 4 bytes a pixel of ${width}x${height}`);
  }
  return y;
}

export interface SsimOptions {
  /** Gaussian window side (default 11; shrunk to the largest odd size that fits a smaller image). */
  windowSize?: number;
  /** Gaussian standard deviation in pixels (default 1.5). */
  sigma?: number;
  /** Default 0.01. */
  k1?: number;
  /** Default 0.03. */
  k2?: number;
  /** Dynamic range L of the pixel values (default 255). */
  dynamicRange?: number;
}

/** Mean SSIM and mean contrast-structure term (the `cs` that MS-SSIM multiplies at the finer scales). */
export interface SsimParts {
  ssim: number;
  cs: number;
}

/** A normalised 1-D Gaussian of `size` taps (odd), standard deviation `sigma`. */
export function gaussianWindow(size: number, sigma: number): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - c) * (i - c)) / (2 * sigma * sigma));
    sum += g[i]!;
  }
  for (let i = 0; i < size; i++) g[i]! /= sum;
  return g;
}

/** The window side used for a width x height image: the requested size, or the largest odd size that fits. */
export function effectiveWindowSize(width: number, height: number, requested = 11): number {
  let ws = Math.min(requested, width, height);
  if (ws % 2 === 0) ws -= 1;
  return Math.max(1, ws);
}

/**
 * SSIM of two single-channel float images (row-major, width x height), the
 * definition of Wang, Bovik, Sheikh and Simoncelli (2004): local statistics
 * under a normalised Gaussian window, evaluated only where the window lies
 * fully inside the image ("valid" filtering, as in the authors' MATLAB
 * ssim_index.m), averaged over those positions. Returns the mean SSIM and the
 * mean contrast-structure term cs = (2 sxy + C2) / (sx^2 + sy^2 + C2).
 */
export function ssimPlane(x: Float64Array, y: Float64Array, width: number, height: number, opts: SsimOptions = {}): SsimParts {
  const n = width * height;
  if (x.length !== n || y.length !== n) throw new RangeError(`ssimPlane: planes must hold ${width}x${height} values`);
  if (width < 1 || height < 1) throw new RangeError('ssimPlane: empty image');
  const ws = effectiveWindowSize(width, height, opts.windowSize ?? 11);
  const g = gaussianWindow(ws, opts.sigma ?? 1.5);
  const L = opts.dynamicRange ?? 255;
  const C1 = ((opts.k1 ?? 0.01) * L) ** 2;
  const C2 = ((opts.k2 ?? 0.03) * L) ** 2;
  const ow = width - ws + 1;
  const oh = height - ws + 1;

  // The 2-D Gaussian is the outer product of the 1-D one, so filter rows, then
  // columns. Row-filtered lines of the five moments live in a ring of `ws` lines.
  const ring = Array.from({ length: ws }, () => ({
    mx: new Float64Array(ow),
    my: new Float64Array(ow),
    xx: new Float64Array(ow),
    yy: new Float64Array(ow),
    xy: new Float64Array(ow),
  }));
  const filterRow = (row: number) => {
    const slot = ring[row % ws]!;
    const base = row * width;
    for (let c = 0; c < ow; c++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0; k < ws; k++) {
        const w = g[k]!;
        const a = x[base + c + k]!;
        const b = y[base + c + k]!;
        sx += w * a;
        sy += w * b;
        sxx += w * a * a;
        syy += w * b * b;
        sxy += w * a * b;
      }
      slot.mx[c] = sx;
      slot.my[c] = sy;
      slot.xx[c] = sxx;
      slot.yy[c] = syy;
      slot.xy[c] = sxy;
    }
  };

  for (let r = 0; r < ws - 1; r++) filterRow(r);
  let ssimSum = 0;
  let csSum = 0;
  const amx = new Float64Array(ow);
  const amy = new Float64Array(ow);
  const axx = new Float64Array(ow);
  const ayy = new Float64Array(ow);
  const axy = new Float64Array(ow);
  for (let r = 0; r < oh; r++) {
    filterRow(r + ws - 1);
    // Column filter, one line of the ring at a time (sequential memory access).
    amx.fill(0); amy.fill(0); axx.fill(0); ayy.fill(0); axy.fill(0);
    for (let k = 0; k < ws; k++) {
      const w = g[k]!;
      const s = ring[(r + k) % ws]!;
      const smx = s.mx, smy = s.my, sxx = s.xx, syy = s.yy, sxy = s.xy;
      for (let c = 0; c < ow; c++) {
        amx[c]! += w * smx[c]!;
        amy[c]! += w * smy[c]!;
        axx[c]! += w * sxx[c]!;
        ayy[c]! += w * syy[c]!;
        axy[c]! += w * sxy[c]!;
      }
    }
    for (let c = 0; c < ow; c++) {
      const mx = amx[c]!, my = amy[c]!, exx = axx[c]!, eyy = ayy[c]!, exy = axy[c]!;
      const vx = exx - mx * mx;
      const vy = eyy - my * my;
      const cov = exy - mx * my;
      const cs = (2 * cov + C2) / (vx + vy + C2);
      csSum += cs;
      ssimSum += ((2 * mx * my + C1) / (mx * mx + my * my + C1)) * cs;
    }
  }
  const count = ow * oh;
  return { ssim: ssimSum / count, cs: csSum / count };
}

/**
 * Structural similarity of two 8-bit frames (RGB HWC; grey or RGBA also
 * accepted), computed on BT.601 luma (Y = 0.299 R + 0.587 G + 0.114 B, float,
 * range 0..255) with the standard parameters: 11x11 Gaussian window,
 * sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, valid filtering, mean over the
 * SSIM map. Luma rather than a per-channel average is the choice of the
 * original paper and of most face-reenactment evaluations (it weights the
 * channels the way the eye does); a per-channel RGB SSIM is usually within a
 * few thousandths of it. Images smaller than 11 pixels use the largest odd
 * window that fits (same sigma, renormalised).
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number, opts: SsimOptions = {}): number {
  if (a.length !== b.length) throw new RangeError(`ssim: frames differ in size (${a.length} vs ${b.length} bytes)`);
  return ssimPlane(rgbToLuma(a, width, height), rgbToLuma(b, width, height), width, height, opts).ssim;
}

// ---------------------------------------------------------------------------
// MS-SSIM

/** The five scale weights of Wang, Simoncelli and Bovik (2003), finest first. */
export const MSSSIM_WEIGHTS: readonly number[] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/** Average each 2x2 block; an odd last row or column is dropped. */
export function downsample2x2(plane: Float64Array, width: number, height: number): { plane: Float64Array; width: number; height: number } {
  const w = Math.floor(width / 2);
  const h = Math.floor(height / 2);
  const out = new Float64Array(w * h);
  for (let r = 0; r < h; r++) {
    const r0 = 2 * r * width;
    const r1 = r0 + width;
    for (let c = 0; c < w; c++) {
      out[r * w + c] = (plane[r0 + 2 * c]! + plane[r0 + 2 * c + 1]! + plane[r1 + 2 * c]! + plane[r1 + 2 * c + 1]!) / 4;
    }
  }
  return { plane: out, width: w, height: h };
}

export interface MsssimOptions extends SsimOptions {
  /** Scale weights, finest first (default MSSSIM_WEIGHTS). */
  weights?: readonly number[];
}

export interface MsssimResult {
  value: number;
  /** Per scale, finest first: size, mean SSIM and mean cs at that scale. */
  scales: { width: number; height: number; ssim: number; cs: number }[];
  /** The weights applied (renormalised when fewer scales than weights fit). */
  weights: number[];
}

/** How many of `maxScales` scales fit: every scale's image must be at least `windowSize` pixels on each side. */
export function msssimScaleCount(width: number, height: number, maxScales = 5, windowSize = 11): number {
  let count = 1;
  let w = width;
  let h = height;
  while (count < maxScales) {
    w = Math.floor(w / 2);
    h = Math.floor(h / 2);
    if (w < windowSize || h < windowSize) break;
    count++;
  }
  return count;
}

/**
 * MS-SSIM with all per-scale values. See `msssim`.
 */
export function msssimDetail(a: Uint8Array, b: Uint8Array, width: number, height: number, opts: MsssimOptions = {}): MsssimResult {
  if (a.length !== b.length) throw new RangeError(`msssim: frames differ in size (${a.length} vs ${b.length} bytes)`);
  const baseWeights = opts.weights ?? MSSSIM_WEIGHTS;
  const m = msssimScaleCount(width, height, baseWeights.length, opts.windowSize ?? 11);
  const used = baseWeights.slice(0, m);
  const total = used.reduce((s, w) => s + w, 0);
  // All scales: the published weights as they are (they sum to 1.0001, and the reference
  // implementations use them so). Fewer scales: the first m, renormalised to sum to 1.
  const weights = m === baseWeights.length ? used.slice() : used.map((w) => w / total);

  let x = rgbToLuma(a, width, height);
  let y = rgbToLuma(b, width, height);
  let w = width;
  let h = height;
  const scales: MsssimResult['scales'] = [];
  let value = 1;
  for (let j = 0; j < m; j++) {
    const parts = ssimPlane(x, y, w, h, opts);
    scales.push({ width: w, height: h, ssim: parts.ssim, cs: parts.cs });
    // Negative means (possible for strongly anti-correlated content) are clamped to 0, as in
    // tf.image.ssim_multiscale and pytorch_msssim, so the fractional powers stay real.
    const term = j === m - 1 ? parts.ssim : parts.cs;
    value *= Math.max(term, 0) ** weights[j]!;
    if (j < m - 1) {
      const dx = downsample2x2(x, w, h);
      const dy = downsample2x2(y, w, h);
      x = dx.plane;
      y = dy.plane;
      w = dx.width;
      h = dx.height;
    }
  }
  return { value, scales, weights };
}

/**
 * Multi-scale SSIM (Wang, Simoncelli and Bovik 2003) on BT.601 luma:
 * MS-SSIM = prod_{j<M} cs_j^{w_j} * ssim_M^{w_M}, with the SSIM of `ssim`
 * at every scale (11x11 Gaussian, sigma 1.5, K1 .01, K2 .03, L 255), 2x2
 * average downsampling between scales (an odd last row or column dropped) and
 * the weights [0.0448, 0.2856, 0.3001, 0.2363, 0.1333], finest first.
 *
 * Small images: a scale is used only when its image is at least 11 pixels on
 * each side, so a 1024 frame uses all 5 (down to 64), a 100x100 crop 4
 * (100, 50, 25, 12) and a 16x16 one 1. With all 5 scales the published
 * weights are used unchanged (they sum to 1.0001; the reference code does
 * not renormalise them). With M < 5 scales the first M weights are used,
 * divided by their sum so that they add up to 1 (a single scale is plain
 * SSIM). Negative cs or ssim means are clamped to 0.
 *
 * Reference implementations (pytorch_msssim) refuse images under 161 pixels
 * a side instead of dropping scales; our values for such small images are
 * therefore our own convention and are comparable only with themselves.
 */
export function msssim(a: Uint8Array, b: Uint8Array, width: number, height: number, opts: MsssimOptions = {}): number {
  return msssimDetail(a, b, width, height, opts).value;
}
