// SVG building blocks for charts and reports: escaping, colours, a text-width estimate for
// layout. Pure (no Node imports); `svg-png.ts` turns the SVG into a PNG with resvg.

export type Rgb = readonly [number, number, number];

/** The font the charts name first; `svg-png.ts` loads DejaVu Sans so Latin, Greek and Cyrillic file names render. */
export const FONT_FAMILY = "'DejaVu Sans', 'Segoe UI', 'Helvetica Neue', Arial, sans-serif";

/** '#rgb' or '#rrggbb' to [r, g, b]; arrays pass through. */
export function parseColor(color: string | Rgb): Rgb {
  if (typeof color !== 'string') return color;
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) throw new RangeError(`unsupported colour ${JSON.stringify(color)} (use #rrggbb)`);
  let hex = m[1]!;
  if (hex.length === 3) hex = Array.from(hex, (c) => c + c).join('');
  return [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
}

export const rgbCss = ([r, g, b]: Rgb): string => `rgb(${r},${g},${b})`;

/** Text and attribute values for XML: the five special characters, and no control characters (XML 1.0 forbids them). */
export function escapeXml(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Coordinates with at most 2 decimals: exact enough at pixel scale, and short. */
export const num = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * Advance width of `text` in DejaVu Sans at `size` px, from the font's widths by character
 * class (digits 0.636 em, capitals about 0.70, small letters about 0.60). Used only for
 * layout decisions (margins, which stats line fits); slightly generous, never drawn.
 */
export function estimateTextWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    if (/[0-9]/.test(ch)) em += 0.636;
    else if (ch === ' ' || ch === '.' || ch === ',' || ch === ':' || ch === ';' || ch === '|' || ch === 'i' || ch === 'l' || ch === "'") em += 0.32;
    else if (ch === '−' || ch === '–' || ch === '—' || ch === 'm' || ch === 'w' || ch === 'M' || ch === 'W') em += 0.9;
    else if (/\p{Lu}/u.test(ch)) em += 0.72;
    else em += 0.62;
  }
  return em * size * (bold ? 1.1 : 1);
}

export interface TextOptions {
  size: number;
  fill: Rgb;
  anchor?: 'start' | 'middle' | 'end';
  /** Where y is: the baseline (default), or the middle of capitals. */
  baseline?: 'alphabetic' | 'central' | 'hanging';
  bold?: boolean;
  /** Rotation in degrees about (x, y). */
  rotate?: number;
}

export function svgText(text: string, x: number, y: number, o: TextOptions): string {
  const attrs = [`x="${num(x)}"`, `y="${num(y)}"`, `font-size="${o.size}"`, `fill="${rgbCss(o.fill)}"`];
  if (o.anchor && o.anchor !== 'start') attrs.push(`text-anchor="${o.anchor}"`);
  if (o.baseline && o.baseline !== 'alphabetic') attrs.push(`dominant-baseline="${o.baseline}"`);
  if (o.bold) attrs.push('font-weight="bold"');
  if (o.rotate) attrs.push(`transform="rotate(${o.rotate} ${num(x)} ${num(y)})"`);
  return `<text ${attrs.join(' ')}>${escapeXml(text)}</text>`;
}

export function svgDocument(width: number, height: number, background: Rgb, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_FAMILY)}">`,
    `<rect width="${width}" height="${height}" fill="${rgbCss(background)}"/>`,
    ...body,
    '</svg>'
  ].join('\n');
}
