// Streams decoded RGB frames out of an ffmpeg child process. Frames are cut
// from the stdout pipe one exact frame size at a time, so memory stays at one
// frame plus the pipe buffer whatever the video's length; the pipe's own
// backpressure pauses ffmpeg while the consumer is busy.
import { cancelledFrom, throwIfAborted } from '../util/cancel';
import { VideoError, quoteName } from './errors';
import { SAFE_INPUT_OPTIONS, resolveFfmpeg, spawnFailure, startTool, stopTool } from './ffmpeg';
import { hdrToSdrFilters, orientationFilters, probeVideo, type VideoInfo } from './probe';

/** One decoded frame: `data` is RGB, 8 bits per channel, rows top to bottom, no padding (HWC). */
export interface Frame {
  /** Index of the frame in the source video, counting from 0 in presentation order. */
  index: number;
  width: number;
  height: number;
  data: Uint8Array;
}

export interface FrameSize {
  width: number;
  height: number;
}

export interface DecodeOptions {
  /** First frame index (default 0). */
  start?: number;
  /** Number of frames (default: to the end). */
  count?: number;
  /** Scale every frame to this size (default: the video's displayed size). */
  size?: FrameSize;
  signal?: AbortSignal;
  /** A probe of this same file, to skip probing it again. */
  info?: VideoInfo;
  /**
   * Whether and how HDR is mapped to standard range (default: the probe's `hdr`); null reads an HDR
   * video as standard range, as projects made before 2026-12-07 were fitted to it.
   */
  hdr?: VideoInfo['hdr'];
  /** The matrix assumed for an untagged HD stream (default: the probe's); null reads it as ffmpeg does, BT.601, as projects made before 2026-12-07 were fitted to it. */
  assumedMatrix?: VideoInfo['assumedMatrix'];
}

function checkIndex(name: string, value: number | undefined, path: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw new VideoError('INVALID_ARGUMENT', `Cannot decode ${quoteName(path)}: ${name} must be a whole number ≥ 0, got ${value}.`, path);
  }
}

function checkSize(size: FrameSize, path: string): void {
  const ok = (n: number) => Number.isInteger(n) && n > 0 && n <= 16384;
  if (!ok(size.width) || !ok(size.height)) {
    throw new VideoError('INVALID_ARGUMENT', `Cannot decode ${quoteName(path)} at ${size.width}x${size.height}: width and height must be whole numbers from 1 to 16384.`, path);
  }
}

/** How a stream's stored pixels become the picture: the probe's fields that decoding applies. */
type Picture = Pick<VideoInfo, 'orientation' | 'hdr' | 'color' | 'assumedMatrix'>;
const NO_PICTURE_CHANGE: Picture = { orientation: 1, hdr: null, color: { primaries: null, matrix: null, range: null }, assumedMatrix: null };

/** The ffmpeg arguments that decode frames [start, start+count) of `path` as raw rgb24 to stdout. */
export function decodeArgs(path: string, start: number, count: number | undefined, size: FrameSize, streamIndex: number, picture: Picture = NO_PICTURE_CHANGE): string[] {
  // A still image's EXIF orientation, which ffmpeg leaves to the viewer (videos turn by their display matrix).
  const filters: string[] = orientationFilters(picture.orientation);
  // Selecting on the decoded frame number n (not on time) makes the choice exact for any frame
  // rate, variable ones included; -vsync 0 then passes each selected frame through once, with no
  // duplicates or drops. (-fps_mode is the newer spelling; the bundled ffmpeg 4.1 only has -vsync.)
  if (start > 0 || count !== undefined) {
    const expr = count === undefined ? `gte(n,${start})` : `between(n,${start},${start + count - 1})`;
    filters.push(`select='${expr}'`);
  }
  // After the selection, so only the frames wanted are tone-mapped.
  filters.push(...hdrToSdrFilters(picture.hdr, picture.color));
  // An explicit size keeps every frame the same byte length even if the stream changes resolution;
  // accurate_rnd and full_chroma_int make the YUV->RGB conversion as exact as swscale allows.
  // An untagged HD stream is read as BT.709, as players read it (swscale's own default is BT.601).
  filters.push(`scale=${size.width}:${size.height}:flags=bicubic+accurate_rnd+full_chroma_int${picture.assumedMatrix ? `:in_color_matrix=${picture.assumedMatrix}` : ''}`);
  const args = ['-hide_banner', '-nostdin', '-v', 'error', ...SAFE_INPUT_OPTIONS, '-i', `file:${path}`];
  // The stream the probe chose by its index, not "the first video stream" (that can be a still picture).
  args.push('-map', `0:${streamIndex}`, '-an', '-sn', '-dn', '-vf', filters.join(','), '-vsync', '0');
  if (count !== undefined) args.push('-frames:v', String(count));
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

/**
 * Decodes frames of a video as RGB. The ffmpeg process is killed as soon as the
 * consumer stops (break/return) or `signal` aborts; an abort throws CancelledError.
 */
export async function* decodeFrames(path: string, opts: DecodeOptions = {}): AsyncGenerator<Frame, void, undefined> {
  const { signal } = opts;
  throwIfAborted(signal);
  checkIndex('start', opts.start, path);
  checkIndex('count', opts.count, path);
  const start = opts.start ?? 0;
  const count = opts.count;
  if (opts.size) checkSize(opts.size, path);
  if (count === 0) return;

  const info = opts.info ?? (await probeVideo(path));
  throwIfAborted(signal);
  if (start >= info.frameCount) return;
  const size = opts.size ?? { width: info.width, height: info.height };
  const frameBytes = size.width * size.height * 3;

  const bin = resolveFfmpeg();
  const tool = startTool(bin, decodeArgs(path, start, count, size, info.streamIndex, { ...info, hdr: opts.hdr !== undefined ? opts.hdr : info.hdr, assumedMatrix: opts.assumedMatrix !== undefined ? opts.assumedMatrix : info.assumedMatrix }), ['ignore', 'pipe', 'pipe']);
  const onAbort = () => void stopTool(tool);
  signal?.addEventListener('abort', onAbort, { once: true });
  let done = false;
  try {
    const stdout = tool.child.stdout;
    if (!stdout) throw new Error('ffmpeg started without a stdout pipe');
    let frame = new Uint8Array(frameBytes);
    let filled = 0;
    let produced = 0;
    for await (const chunk of stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          if (signal?.aborted) throw cancelledFrom(signal);
          yield { index: start + produced, width: size.width, height: size.height, data: frame };
          produced++;
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    const status = await tool.exited;
    if (signal?.aborted) throw cancelledFrom(signal);
    if (status.spawnError) throw spawnFailure(bin, status.spawnError);
    if (status.code !== 0) {
      const reason = tool.stderr.lastLine() || `ffmpeg exited with ${status.code ?? status.signal}`;
      throw new VideoError('DECODE_FAILED', `Could not decode ${quoteName(path)} after frame ${start + produced}: ${reason}.`, path);
    }
    if (filled > 0) {
      throw new VideoError('DECODE_FAILED', `Could not decode ${quoteName(path)}: ffmpeg stopped in the middle of frame ${start + produced}.`, path);
    }
    done = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!done) await stopTool(tool);
  }
}

/** Decodes frames into an array: for short ranges only, since it holds them all. */
export async function readFrames(path: string, opts: DecodeOptions = {}): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of decodeFrames(path, opts)) frames.push(frame);
  return frames;
}
