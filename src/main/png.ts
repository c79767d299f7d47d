// Images the app sends to the page: 8-bit RGB as PNG data URLs, thumbnails
// scaled down by whole factors (area averaging) to fit THUMBNAIL_SIZE.
import { downscaleArea } from '../core/face/warp';
import { decodePngRgb, encodeRgbPng, type RgbBytes } from '../core/util/png';
import { THUMBNAIL_SIZE } from '../shared/contract';

export type RgbImage = RgbBytes;

export const pngBytes = (img: RgbImage): Buffer => encodeRgbPng(img);

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
  return decodePngRgb(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}
