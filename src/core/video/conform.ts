// A constant-rate copy of a video: each tick of the new rate shows the source frame whose time is
// nearest to it (ffmpeg's fps filter: a frame repeats across a gap, one squeezed between two ticks
// is dropped), so every frame of the copy is within half a frame of its source time and the sound
// stays in sync however irregular the source's timestamps were. The encoder takes frames by their order, so a
// variable-rate recording (a phone or a video call) is best encoded from such a copy. Like the
// video writer, the copy appears only when complete: ffmpeg writes a hidden partial file beside
// it that is renamed into place, and removed on failure or cancel.
import { realpathSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { cancelledFrom, throwIfAborted } from '../util/cancel';
import { createTempFile } from './encode';
import { VideoError, quoteName } from './errors';
import { SAFE_INPUT_OPTIONS, resolveFfmpeg, spawnFailure, startTool, stopTool } from './ffmpeg';
import { hdrToSdrFilters, probeVideo, reduced, untagged, type Rational, type VideoInfo } from './probe';

/** The containers a copy can be written as (by extension). */
export const CONFORM_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv'] as const;

/** Sound codecs an MP4/MOV copy carries as they are; any other is re-encoded to AAC (Matroska keeps every one). */
const MP4_AUDIO = new Set(['aac', 'mp3', 'alac']);

/** The highest rate a copy is made at: above it a nominal rate is a time base, not a camera's rate. */
const MAX_RATE = 240;

/** Parses "30", "29.97" or "30000/1001" into a positive rational of at most MAX_RATE frames per second; null otherwise. */
export function parseRate(text: string): Rational | null {
  const m = /^\s*(\d+(?:\.\d+)?)(?:\/(\d+))?\s*$/.exec(text);
  if (!m) return null;
  let num: number;
  let den: number;
  if (m[2] !== undefined) {
    if (m[1]!.includes('.')) return null;
    num = Number(m[1]);
    den = Number(m[2]);
  } else {
    const decimals = m[1]!.split('.')[1]?.length ?? 0;
    if (decimals > 6) return null;
    den = 10 ** decimals;
    num = Math.round(Number(m[1]) * den);
  }
  if (!(Number.isSafeInteger(num) && Number.isSafeInteger(den) && num > 0 && den > 0)) return null;
  if (num / den > MAX_RATE || num / den < 1 / 60) return null;
  return reduced(num, den);
}

const rateText = (r: Rational): string => `${r.num}/${r.den}`;

/** Standard rates, slowest first. */
const STANDARD_RATES: readonly Rational[] = [
  { num: 24000, den: 1001 },
  { num: 24, den: 1 },
  { num: 25, den: 1 },
  { num: 30000, den: 1001 },
  { num: 30, den: 1 },
  { num: 48, den: 1 },
  { num: 50, den: 1 },
  { num: 60000, den: 1001 },
  { num: 60, den: 1 }
];

/**
 * The rate a copy of this video is made at: the nominal rate (ffprobe's r_frame_rate, the rate a
 * phone records at: 30/1 for a clip with dropped frames) when it is at least the average and either
 * at most 60 or at most twice the average (above that it can be a time base: 120 for a 30 per
 * second clip, 1000 for a browser's recording); else the standard rate within 0.5% of the average, else the slowest
 * standard rate above it (so no frame is lost); above 60, the average itself.
 */
export function constantRateOf(info: Pick<VideoInfo, 'fpsRational' | 'nominalFpsRational' | 'fps'>): Rational {
  const avg = info.fps;
  const nominal = info.nominalFpsRational ? parseRate(info.nominalFpsRational) : null;
  const n = nominal ? nominal.num / nominal.den : 0;
  if (nominal && n >= avg * 0.995 && (n <= 60 || n <= avg * 2)) return nominal;
  const off = (r: Rational) => Math.abs(r.num / r.den - avg);
  const near = STANDARD_RATES.filter((r) => off(r) <= 0.005 * avg).sort((a, b) => off(a) - off(b))[0];
  if (near) return near;
  const above = STANDARD_RATES.find((r) => r.num / r.den >= avg);
  if (above) return above;
  return parseRate(info.fpsRational) ?? { num: Math.min(MAX_RATE, Math.max(1, Math.round(avg))), den: 1 };
}

export interface ConformOptions {
  /** The source video. */
  input: string;
  /** The copy to write (.mp4, .m4v, .mov or .mkv); replaced if it exists, never the input itself. */
  out: string;
  /** The copy's rate, e.g. "30" or "30000/1001"; default constantRateOf(the source). */
  fps?: string;
  /** The source's probe, when the caller has it. */
  info?: VideoInfo;
  /** x264 quality of the copy (default 16: visually lossless; the encoder sees the copy, not the source). */
  crf?: number;
  signal?: AbortSignal;
  /** Fraction done (0..1) by the copy's time over the source's duration, and frames written. */
  onProgress?(fraction: number, frames: number): void;
}

export interface ConformResult {
  path: string;
  /** The copy's rate as a rational. */
  fpsRational: string;
  fps: number;
  frameCount: number;
  durationSec: number;
  /** How the sound came over: copied as it was, re-encoded to AAC, or none. */
  audio: 'copied' | 'aac' | 'none';
  /** The source's rate, frame count and whether its rate was variable. */
  source: { fpsRational: string; frameCount: number; variableFrameRate: boolean };
}

/** Whether two names are one file: the same real path, or (a file that exists) the same device and inode, which also catches a case-insensitive disk's other spelling. */
const same = (a: string, b: string): boolean => {
  const real = (p: string) => {
    try {
      return realpathSync.native(p);
    } catch {
      return resolve(p);
    }
  };
  if (real(a) === real(b)) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino && x.ino !== 0;
  } catch {
    return false;
  }
};

/**
 * The colour tags of the copy: how the source is read (decode.ts), written down, so the copy is
 * read the same way whatever its size or turn. The copy's pixels are the source's YUV (HDR mapped
 * to BT.709; full range made limited by yuv420p), so only the tags need saying: the source's own
 * where it has them, else BT.709 for an untagged HD stream (assumedMatrix) and BT.601 below.
 */
export function copyColorTags(info: Pick<VideoInfo, 'hdr' | 'color' | 'assumedMatrix' | 'pixelFormat'>): string[] {
  if (info.hdr) return ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv'];
  const matrix = !untagged(info.color.matrix) ? info.color.matrix! : info.assumedMatrix === 'bt709' ? 'bt709' : 'smpte170m';
  const primaries = !untagged(info.color.primaries) ? info.color.primaries! : matrix === 'bt709' ? 'bt709' : 'smpte170m';
  const range = info.color.range === 'pc' && !/^yuvj/.test(info.pixelFormat) ? 'pc' : 'tv';
  return ['-colorspace', matrix, '-color_primaries', primaries, '-color_trc', matrix === 'bt709' ? 'bt709' : 'smpte170m', '-color_range', range];
}

/** The ffmpeg arguments that write the copy of `info`'s video stream and first sound at `rate` to `tmp`. */
export function conformArgs(info: VideoInfo, rate: Rational, tmp: string, outExt: string, crf: number): { args: string[]; audio: ConformResult['audio'] } {
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-nostats', '-progress', 'pipe:1', '-y', ...SAFE_INPUT_OPTIONS, '-i', `file:${info.path}`];
  args.push('-map', `0:${info.streamIndex}`);
  // fps picks, for each tick of the new rate, the frame nearest it; the copy is upright (ffmpeg
  // turns a rotated stream as it decodes), so it must not carry the rotation tag again.
  const filters = [`fps=fps=${rateText(rate)}`];
  // 4:2:0 needs an even size: an odd column or row is added as a copy of the edge (as the video
  // writer does), so the picture keeps its pixels and no black line appears.
  const [w, h] = [info.width, info.height];
  // Non-square pixels are stretched to the size players show, so the copy is read the same way.
  if (info.pixelAspect !== 1) filters.push(`scale=${w}:${h}:flags=bicubic`, 'setsar=1');
  // HDR is mapped to standard-range BT.709 as decoding maps it, and the copy says so, so it is
  // read as the source is.
  filters.push(...hdrToSdrFilters(info.hdr, info.color));
  // (In full-resolution chroma first: pad on 4:2:0 drops an odd last column.)
  if (w % 2 || h % 2) filters.push('format=yuv444p', `pad=${w + (w % 2)}:${h + (h % 2)}:0:0`, `fillborders=right=${w % 2}:bottom=${h % 2}:mode=smear`);
  args.push('-vf', filters.join(','), '-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf), '-pix_fmt', 'yuv420p', '-metadata:s:v:0', 'rotate=0');
  args.push(...copyColorTags(info));
  let audio: ConformResult['audio'] = 'none';
  if (info.audio) {
    args.push('-map', '0:a:0');
    const copy = outExt === '.mkv' || MP4_AUDIO.has(info.audio.codec);
    audio = copy ? 'copied' : 'aac';
    args.push(...(copy ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '192k']));
  }
  if (outExt !== '.mkv') args.push('-movflags', '+faststart');
  args.push(`file:${tmp}`);
  return { args, audio };
}

/**
 * Writes a constant-rate copy of a video, with its sound. Throws VideoError INVALID_ARGUMENT for a
 * bad rate, extension or an output that is the input, the probe's errors for a bad input, the
 * writer's for a bad output folder, ENCODE_FAILED when ffmpeg fails, and CancelledError on abort
 * (nothing is left behind then).
 */
export async function conformVideo(opts: ConformOptions): Promise<ConformResult> {
  const { signal } = opts;
  throwIfAborted(signal);
  const out = resolve(opts.out);
  const ext = extname(out).toLowerCase();
  if (!(CONFORM_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new VideoError('INVALID_ARGUMENT', `A constant-rate copy is written as ${CONFORM_EXTENSIONS.join(', ')}: ${quoteName(out)} is none of those.`, out);
  }
  if (same(opts.input, out)) throw new VideoError('INVALID_ARGUMENT', `The copy cannot replace its source ${quoteName(opts.input)}: choose another file name.`, out);
  const info = opts.info ?? (await probeVideo(opts.input));
  let rate: Rational;
  if (opts.fps !== undefined) {
    const r = parseRate(opts.fps);
    if (!r) throw new VideoError('INVALID_ARGUMENT', `Frame rate ${JSON.stringify(opts.fps)} must be a positive number up to ${MAX_RATE}, or a rational such as 30000/1001.`, out);
    rate = r;
  } else {
    rate = constantRateOf(info);
  }
  const crf = opts.crf ?? 16;
  if (!(Number.isFinite(crf) && crf >= 0 && crf <= 51)) throw new VideoError('INVALID_ARGUMENT', `crf ${crf} must be between 0 and 51.`, out);
  throwIfAborted(signal);
  const tmp = await createTempFile(out);
  const { args, audio } = conformArgs(info, rate, tmp, ext, crf);
  const bin = resolveFfmpeg();
  const tool = startTool(bin, args, ['ignore', 'pipe', 'pipe']);
  const onAbort = () => void stopTool(tool);
  signal?.addEventListener('abort', onAbort, { once: true });
  // An abort while the partial file was being created has fired already.
  if (signal?.aborted) onAbort();
  try {
    let pending = '';
    let frames = 0;
    tool.child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [key, value] = line.trim().split('=', 2);
        if (key === 'frame') frames = Number(value) || frames;
        // out_time_ms is in microseconds (ffmpeg's long-standing misnomer).
        else if (key === 'out_time_ms' && info.durationSec > 0) {
          const us = Number(value);
          if (Number.isFinite(us) && us >= 0) opts.onProgress?.(Math.min(1, us / 1e6 / info.durationSec), frames);
        }
      }
    });
    const status = await tool.exited;
    if (signal?.aborted) throw cancelledFrom(signal);
    if (status.spawnError) throw spawnFailure(bin, status.spawnError);
    if (status.code !== 0) {
      const reason = tool.stderr.lastLine() || `ffmpeg exited with ${status.code ?? status.signal}`;
      throw new VideoError('ENCODE_FAILED', `Could not write the constant-rate copy ${quoteName(out)}: ${reason}.`, out);
    }
    const made = await probeVideo(tmp);
    throwIfAborted(signal);
    await rename(tmp, out);
    opts.onProgress?.(1, made.frameCount);
    return {
      path: out,
      fpsRational: rateText(rate),
      fps: rate.num / rate.den,
      frameCount: made.frameCount,
      durationSec: made.durationSec,
      audio,
      source: { fpsRational: info.fpsRational, frameCount: info.frameCount, variableFrameRate: info.variableFrameRate }
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await stopTool(tool);
    await rm(tmp, { force: true });
  }
}
