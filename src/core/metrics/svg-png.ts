// SVG to PNG through resvg (@resvg/resvg-js: Rust resvg with prebuilt binaries from npm), with
// DejaVu Sans found on the machine, so every chart and report draws its text in one font that
// covers Latin, Greek and Cyrillic. Where DejaVu is missing the system's fonts are used instead.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';

const DEJAVU_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

/** Folders that hold DejaVu's TTF files on Debian/Ubuntu (fonts-dejavu-core), Fedora, Arch, macOS and Windows installs. */
export function fontDirs(env: Record<string, string | undefined> = process.env, home = homedir()): string[] {
  const dirs = [
    env.STYLECAST_FONT_DIR,
    '/usr/share/fonts/truetype/dejavu',
    '/usr/share/fonts/dejavu-sans-fonts',
    '/usr/share/fonts/dejavu',
    '/usr/share/fonts/TTF',
    '/usr/local/share/fonts',
    join(home, '.local/share/fonts'),
    join(home, '.fonts'),
    '/Library/Fonts',
    join(home, 'Library/Fonts'),
    env.WINDIR ? join(env.WINDIR, 'Fonts') : undefined,
    env.LOCALAPPDATA ? join(env.LOCALAPPDATA, 'Microsoft', 'Windows', 'Fonts') : undefined
  ];
  return dirs.filter((d): d is string => Boolean(d));
}

/** The DejaVu Sans regular and bold files of the first folder that has the regular one; [] when none does. */
export function findDejaVu(dirs: string[] = fontDirs()): string[] {
  for (const dir of dirs) {
    if (!existsSync(join(dir, DEJAVU_FILES[0]!))) continue;
    return DEJAVU_FILES.map((f) => join(dir, f)).filter((p) => existsSync(p));
  }
  return [];
}

let cached: string[] | undefined;

/** Renders an SVG document to an RGBA PNG at its own size (1 SVG unit = 1 pixel). */
export function svgToPng(svg: string, fontFiles: string[] = (cached ??= findDejaVu())): Buffer {
  const resvg = new Resvg(svg, {
    font: { fontFiles, loadSystemFonts: fontFiles.length === 0, defaultFontFamily: fontFiles.length ? 'DejaVu Sans' : 'Arial' },
    imageRendering: 1, // optimizeSpeed: embedded renders are placed pixel for pixel, never smoothed
    shapeRendering: 2, // geometricPrecision: anti-aliased lines
    textRendering: 1 // optimizeLegibility
  });
  return resvg.render().asPng();
}
