// Images the app sends to the page: 8-bit RGB as PNG data URLs, thumbnails
// scaled down by whole factors (area averaging) to fit THUMBNAIL_SIZE.
import { PNG } from 'pngjs';
import { downscaleArea } from '../core/face/warp';
import { THUMBNAIL_SIZE } from '../shared/contract';

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export function pngBytes(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  const out = png.data;
  for (let i = 0, j = 0; i < img.width * img.height * 3; i += 3, j += 4) {
    out[j] = img.data[i]!;
    out[j + 1] = img.data[i + 1]!;
    out[j + 2] = img.data[i + 2]!;
    out[j + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2 });
}

export function pngDataUrl(img: RgbImage): string {
  return `data:image/png;base64,${pngBytes(img).toString('base64')}`;
}

/** The image shrunk by the smallest whole factor that fits it in max x max pixels. */
export function thumbnail(img: RgbImage, max = THUMBNAIL_SIZE): RgbImage {
  const factor = Math.ceil(Math.max(img.width, img.height) / max);
  return factor <= 1 ? img : downscaleArea(img.data, img.width, img.height, factor);
}

/** Decodes a PNG data URL back to RGB (tests and the e2e harness compare pixels with it). */
export function decodePngDataUrl(url: string): RgbImage {
  const png = PNG.sync.read(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, j = 0; j < png.data.length; i += 3, j += 4) {
    data[i] = png.data[j]!;
    data[i + 1] = png.data[j + 1]!;
    data[i + 2] = png.data[j + 2]!;
  }
  return { data, width: png.width, height: png.height };
}
