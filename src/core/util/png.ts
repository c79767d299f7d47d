// 8-bit RGB images as PNG files (pngjs), one encoder and decoder for the whole app:
// plots and reports, the studio's previews and thumbnails, and `stylecast generate`.
import { PNG } from 'pngjs';

export interface RgbBytes {
  /** Interleaved RGB, row-major, width * height * 3 bytes. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** An RGB PNG (colour type 2, no alpha) of interleaved 8-bit RGB. */
export function encodeRgbPng({ data, width, height }: RgbBytes): Buffer {
  if (data.length !== width * height * 3) throw new Error(`PNG: ${data.length} bytes are not ${width}x${height} RGB`);
  const png = new PNG({ width, height });
  const out = png.data;
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    out[j] = data[i]!;
    out[j + 1] = data[i + 1]!;
    out[j + 2] = data[i + 2]!;
    out[j + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** Any PNG as interleaved 8-bit RGB (alpha, if any, is dropped). */
export function decodePngRgb(bytes: Buffer): RgbBytes {
  const png = PNG.sync.read(bytes);
  const data = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, j = 0; j < png.data.length; i += 3, j += 4) {
    data[i] = png.data[j]!;
    data[i + 1] = png.data[j + 1]!;
    data[i + 2] = png.data[j + 2]!;
  }
  return { data, width: png.width, height: png.height };
}
