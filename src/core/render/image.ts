// Conversions between the generator's float NCHW images (about -1..1) and 8-bit RGB frames.

/** One image of a [B, 3, H, W] batch to interleaved RGB bytes, mapping -1..1 to 0..255 with clamping. */
export function toRgb8(nchw: Float32Array, index: number, h: number, w: number): Uint8Array {
  const plane = h * w;
  const base = index * 3 * plane;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = (nchw[base + c * plane + p]! + 1) * 127.5;
      out[p * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return out;
}

/** Interleaved RGB bytes to one [3, H, W] float image in -1..1. */
export function fromRgb8(rgb: Uint8Array, h: number, w: number): Float32Array {
  const plane = h * w;
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = rgb[p * 3 + c]! / 127.5 - 1;
  return out;
}
