// A minimal RGB rasteriser for charts: rectangles, anti-aliased polylines and
// dots, and bitmap text (font.ts) at integer scales, horizontal or rotated.
import { encodeRgbPng } from '../util/png';
import { FONT_CAP_HEIGHT, FONT_LINE_HEIGHT, FONT_SPACING, glyph, textWidth } from './font';

export type Rgb = readonly [number, number, number];

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** '#rgb' or '#rrggbb' to [r, g, b]; arrays pass through. */
export function parseColor(color: string | Rgb): Rgb {
  if (typeof color !== 'string') return color;
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) throw new RangeError(`unsupported colour ${JSON.stringify(color)} (use #rrggbb)`);
  let hex = m[1]!;
  if (hex.length === 3) hex = Array.from(hex, (c) => c + c).join('');
  return [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
}

export type TextAlign = 'left' | 'center' | 'right';
/** Vertical anchor: top of capitals, their middle, the baseline, or the bottom of descenders. */
export type TextBaseline = 'top' | 'middle' | 'baseline' | 'bottom';

export interface TextStyle {
  /** Integer pixel scale of the 5x7 font (default 2). */
  scale?: number;
  color?: Rgb;
  align?: TextAlign;
  baseline?: TextBaseline;
  /** 0: left to right; -90: reading upwards (left axis labels); 90: reading downwards. */
  rotate?: 0 | -90 | 90;
  /** Draw each stroke one pixel wider. */
  bold?: boolean;
}

export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) {
      throw new RangeError(`Raster: bad size ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < this.data.length; i += 3) {
      this.data[i] = background[0];
      this.data[i + 1] = background[1];
      this.data[i + 2] = background[2];
    }
  }

  /** Blend `color` over pixel (x, y) with opacity `alpha` (0..1); outside pixels are ignored. */
  blend(x: number, y: number, color: Rgb, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || !(alpha > 0)) return;
    const i = (y * this.width + x) * 3;
    if (alpha >= 1) {
      this.data[i] = color[0];
      this.data[i + 1] = color[1];
      this.data[i + 2] = color[2];
      return;
    }
    const d = this.data;
    d[i] = Math.round(d[i]! + (color[0] - d[i]!) * alpha);
    d[i + 1] = Math.round(d[i + 1]! + (color[1] - d[i + 1]!) * alpha);
    d[i + 2] = Math.round(d[i + 2]! + (color[2] - d[i + 2]!) * alpha);
  }

  /** Fill the integer rectangle [x, x+w) x [y, y+h). */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb, alpha = 1): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.blend(xx, yy, color, alpha);
  }

  /** Copy a w x h image of interleaved 8-bit RGB with its top-left corner at (x, y), clipped to the raster. */
  putRgb(rgb: Uint8Array, w: number, h: number, x: number, y: number): void {
    if (rgb.length !== w * h * 3) throw new RangeError(`Raster.putRgb: ${rgb.length} bytes for a ${w}x${h} RGB image`);
    const ax = Math.round(x);
    const ay = Math.round(y);
    const u0 = Math.max(0, -ax);
    const u1 = Math.min(w, this.width - ax);
    if (u1 <= u0) return;
    for (let v = Math.max(0, -ay); v < Math.min(h, this.height - ay); v++) {
      this.data.set(rgb.subarray((v * w + u0) * 3, (v * w + u1) * 3), ((ay + v) * this.width + ax + u0) * 3);
    }
  }

  /** A crisp 1-pixel horizontal line on pixel row y from column x0 to x1 inclusive. */
  hline(x0: number, x1: number, y: number, color: Rgb, alpha = 1): void {
    this.fillRect(Math.min(x0, x1), y, Math.abs(x1 - x0) + 1, 1, color, alpha);
  }

  /** A crisp 1-pixel vertical line on pixel column x from row y0 to y1 inclusive. */
  vline(x: number, y0: number, y1: number, color: Rgb, alpha = 1): void {
    this.fillRect(x, Math.min(y0, y1), 1, Math.abs(y1 - y0) + 1, color, alpha);
  }

  /**
   * Stroke an anti-aliased polyline of `lineWidth` pixels with round joins
   * and caps, clipped to `clip`. Points are [x0, y0, x1, y1, ...] in pixel
   * coordinates (pixel (i, j) covers [i, i+1) x [j, j+1)); a NaN coordinate
   * breaks the line, and a point alone between breaks is drawn as a dot.
   * Coverage is gathered in a mask (maximum over segments) and composited
   * once, so joins are not darkened.
   */
  strokePolyline(points: ArrayLike<number>, color: Rgb, lineWidth: number, clip: Rect): void {
    const cx0 = Math.max(0, Math.floor(clip.x));
    const cy0 = Math.max(0, Math.floor(clip.y));
    const cx1 = Math.min(this.width, Math.ceil(clip.x + clip.width));
    const cy1 = Math.min(this.height, Math.ceil(clip.y + clip.height));
    const mw = cx1 - cx0;
    const mh = cy1 - cy0;
    if (mw <= 0 || mh <= 0) return;
    const mask = new Float32Array(mw * mh);
    const hw = lineWidth / 2;
    const segment = (ax: number, ay: number, bx: number, by: number, r = hw) => {
      const xa = Math.max(cx0, Math.floor(Math.min(ax, bx) - r - 1));
      const xb = Math.min(cx1 - 1, Math.ceil(Math.max(ax, bx) + r + 1));
      const ya = Math.max(cy0, Math.floor(Math.min(ay, by) - r - 1));
      const yb = Math.min(cy1 - 1, Math.ceil(Math.max(ay, by) + r + 1));
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      for (let py = ya; py <= yb; py++) {
        for (let px = xa; px <= xb; px++) {
          const qx = px + 0.5 - ax;
          const qy = py + 0.5 - ay;
          let t = len2 > 0 ? (qx * dx + qy * dy) / len2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = qx - t * dx;
          const ey = qy - t * dy;
          const cov = r + 0.5 - Math.sqrt(ex * ex + ey * ey);
          if (cov <= 0) continue;
          const k = (py - cy0) * mw + (px - cx0);
          const c = cov > 1 ? 1 : cov;
          if (c > mask[k]!) mask[k] = c;
        }
      }
    };
    const n = Math.floor(points.length / 2);
    for (let i = 0; i < n; i++) {
      const x = points[2 * i]!;
      const y = points[2 * i + 1]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const hasNext = i + 1 < n && Number.isFinite(points[2 * i + 2]!) && Number.isFinite(points[2 * i + 3]!);
      const hasPrev = i > 0 && Number.isFinite(points[2 * i - 2]!) && Number.isFinite(points[2 * i - 1]!);
      if (hasNext) segment(x, y, points[2 * i + 2]!, points[2 * i + 3]!);
      // An isolated point: a dot a little wider than the line (a zero-length segment is a disc).
      else if (!hasPrev) segment(x, y, x, y, Math.max(hw * 1.6, 1.5));
    }
    for (let y = 0; y < mh; y++) {
      for (let x = 0; x < mw; x++) {
        const a = mask[y * mw + x]!;
        if (a > 0) this.blend(cx0 + x, cy0 + y, color, a);
      }
    }
  }

  /** Draw `text` anchored at (x, y); returns its extent along the text direction in pixels. */
  text(text: string, x: number, y: number, style: TextStyle = {}): number {
    const s = Math.max(1, Math.round(style.scale ?? 2));
    const color = style.color ?? [51, 51, 51];
    const rotate = style.rotate ?? 0;
    const bold = style.bold ? 1 : 0;
    const tw = textWidth(text) * s + bold;
    const u0 = style.align === 'center' ? Math.round(tw / 2) : style.align === 'right' ? tw : 0;
    const baseline = style.baseline ?? 'top';
    const v0 =
      baseline === 'middle' ? Math.round((FONT_CAP_HEIGHT * s) / 2) : baseline === 'baseline' ? FONT_CAP_HEIGHT * s : baseline === 'bottom' ? FONT_LINE_HEIGHT * s : 0;
    const ax = Math.round(x);
    const ay = Math.round(y);
    // Paint one s x s font pixel whose top-left corner is (u, v) in text space.
    const put = (u: number, v: number) => {
      const du = u - u0;
      const dv = v - v0;
      if (rotate === 0) this.fillRect(ax + du, ay + dv, s + bold, s, color);
      else if (rotate === -90) this.fillRect(ax + dv, ay - du - s - bold, s, s + bold, color);
      else this.fillRect(ax - dv - s, ay + du, s, s + bold, color);
    };
    let u = 0;
    let first = true;
    for (const ch of text) {
      if (!first) u += FONT_SPACING * s;
      first = false;
      const g = glyph(ch);
      g.rows.forEach((row, r) => row.forEach((ink, c) => ink && put(u + c * s, r * s)));
      u += g.width * s;
    }
    return tw;
  }

  /** Encode as an 8-bit RGB PNG. */
  toPng(): Buffer {
    return encodeRgbPng(this);
  }
}

/** Width in pixels of `text` drawn at `scale` (and bold). */
export function measureText(text: string, scale = 2, bold = false): number {
  return textWidth(text) * scale + (bold ? 1 : 0);
}
