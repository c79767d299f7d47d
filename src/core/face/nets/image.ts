// Pre-processing shared by the face networks, matching face-api on tfjs: crop an
// integer rectangle, pad it to a square with zeros (padToSquare), and resize with
// tf.image.resizeBilinear(alignCorners = false, halfPixelCenters = false), which
// samples output pixel i at input coordinate i * (in / out).
import type { FaceBox } from '../types';

export interface RgbImage {
  /** Interleaved RGB bytes, rows top to bottom (HWC). */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface IntRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where a square network input sits in the source image: source = crop origin - pad + input * scale. */
export interface SquareCrop {
  rect: IntRect;
  /** Side of the padded square, in source pixels. */
  side: number;
  padLeft: number;
  padTop: number;
}

export function checkImage(img: RgbImage, what: string): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${what}: image size ${width}x${height} is not a positive whole size`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(`${what}: ${data.length} bytes do not hold a ${width}x${height} RGB image (${width * height * 3} expected)`);
  }
}

/**
 * face-api's Box.clipAtImageBorders: clip to the image, then floor x, y, width and height
 * separately. Null when nothing of the box is inside the image.
 */
export function clipBox(box: Pick<FaceBox, 'x' | 'y' | 'width' | 'height'>, width: number, height: number): IntRect | null {
  const x = Math.max(box.x, 0);
  const y = Math.max(box.y, 0);
  const w = Math.min(box.x + box.width - x, width - x);
  const h = Math.min(box.y + box.height - y, height - y);
  const r = { x: Math.floor(x), y: Math.floor(y), width: Math.floor(w), height: Math.floor(h) };
  return r.width > 0 && r.height > 0 && Number.isFinite(r.width + r.height) ? r : null;
}

/**
 * Writes the crop `rect` of `img`, zero-padded to a square (at the end when `center` is
 * false, else split with the larger half at the end, as padToSquare does) and resized to
 * size x size, as planar float RGB (0..255) into `out` at `offset` (3 * size * size values).
 */
export function squareCropResize(img: RgbImage, rect: IntRect, center: boolean, size: number, out: Float32Array, offset = 0): SquareCrop {
  const side = Math.max(rect.width, rect.height);
  const diff = side - Math.min(rect.width, rect.height);
  const before = center ? diff - Math.round(diff * 0.5) : 0;
  const padLeft = rect.width < rect.height ? before : 0;
  const padTop = rect.height < rect.width ? before : 0;
  const scale = side / size;
  const plane = size * size;

  // Per output column: byte offsets of the two source columns (-1 inside the padding) and the weight.
  const cx0 = new Int32Array(size);
  const cx1 = new Int32Array(size);
  const cw = new Float32Array(size);
  const toSrc = (p: number, pad: number, len: number, origin: number): number => {
    const c = p - pad;
    return c >= 0 && c < len ? origin + c : -1;
  };
  for (let i = 0; i < size; i++) {
    const f = i * scale;
    const lo = Math.floor(f);
    const hi = Math.min(side - 1, Math.ceil(f));
    const a = toSrc(lo, padLeft, rect.width, rect.x);
    const b = toSrc(hi, padLeft, rect.width, rect.x);
    cx0[i] = a < 0 ? -1 : a * 3;
    cx1[i] = b < 0 ? -1 : b * 3;
    cw[i] = f - lo;
  }
  const { data, width } = img;
  const rowBytes = width * 3;
  for (let j = 0; j < size; j++) {
    const f = j * scale;
    const lo = Math.floor(f);
    const hi = Math.min(side - 1, Math.ceil(f));
    const r0 = toSrc(lo, padTop, rect.height, rect.y);
    const r1 = toSrc(hi, padTop, rect.height, rect.y);
    const o0 = r0 < 0 ? -1 : r0 * rowBytes;
    const o1 = r1 < 0 ? -1 : r1 * rowBytes;
    const wy = f - lo;
    const rowOut = offset + j * size;
    for (let i = 0; i < size; i++) {
      const a = cx0[i] as number;
      const b = cx1[i] as number;
      const wx = cw[i] as number;
      for (let ch = 0; ch < 3; ch++) {
        const tl = o0 < 0 || a < 0 ? 0 : (data[o0 + a + ch] as number);
        const tr = o0 < 0 || b < 0 ? 0 : (data[o0 + b + ch] as number);
        const bl = o1 < 0 || a < 0 ? 0 : (data[o1 + a + ch] as number);
        const br = o1 < 0 || b < 0 ? 0 : (data[o1 + b + ch] as number);
        const top = tl + (tr - tl) * wx;
        const bottom = bl + (br - bl) * wx;
        out[rowOut + ch * plane + i] = top + (bottom - top) * wy;
      }
    }
  }
  return { rect, side, padLeft, padTop };
}
