// Writes RGB frames to an H.264 file through an ffmpeg child process, with the
// audio of another file. The file appears only when it is complete: ffmpeg
// writes a hidden temp file in the same folder, renamed over the target on
// close(); abort(), cancellation or any failure deletes it.
import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { CancelledError, cancelledFrom, throwIfAborted } from '../util/cancel';
import { VideoError, quoteName } from './errors';
import { SAFE_INPUT_OPTIONS, resolveFfmpeg, spawnFailure, startTool, stopTool, type RunningTool } from './ffmpeg';
import { firstAudio, probeMedia } from './probe';

export type X264Preset =
  | 'ultrafast'
  | 'superfast'
  | 'veryfast'
  | 'faster'
  | 'fast'
  | 'medium'
  | 'slow'
  | 'slower'
  | 'veryslow';

export interface VideoWriterOptions {
  /** Target file: .mp4, .m4v, .mov or .mkv. An existing file is replaced on close(). */
  path: string;
  /** Size of the frames passed to write(). */
  width: number;
  height: number;
  /** Frames per second, as a number (12.5) or an exact rational string ("30000/1001"). */
  fps: number | string;
  /** A media file whose first audio stream is re-encoded to AAC under the video; a file without audio adds none. */
  audioFrom?: string;
  /** Where in `audioFrom` the audio starts, in seconds (the first written frame's time in the source; default 0). */
  audioStartSec?: number;
  /** x264 constant rate factor, 0 (lossless) to 51 (default 18, visually near-lossless). */
  crf?: number;
  /** x264 speed/size trade-off (default 'medium'). */
  preset?: X264Preset;
  /**
   * Bit-exact RGB (libx264rgb at qp 0): decoding gives back the very bytes written.
   * For ground-truth clips; few players show it. Ignores crf; needs no even sizes.
   */
  lossless?: boolean;
  signal?: AbortSignal;
}

export interface VideoWriter {
  /** The file written on close(). */
  readonly path: string;
  /**
   * Size in the file: width and height rounded up to even numbers, which yuv420p
   * needs; the added column/row repeats the frame's last one.
   */
  readonly outputWidth: number;
  readonly outputHeight: number;
  /** Whether the file gets an audio track (audioFrom had one). */
  readonly hasAudio: boolean;
  readonly framesWritten: number;
  /** Queues one RGB frame (width*height*3 bytes, HWC); resolves once ffmpeg has taken it, so the buffer may be reused. */
  write(frame: Uint8Array): Promise<void>;
  /** Finishes the file and moves it into place. */
  close(): Promise<void>;
  /** Stops ffmpeg and deletes the partial file; safe to call at any time, more than once. */
  abort(): Promise<void>;
}

const CONTAINERS = new Set(['.mp4', '.m4v', '.mov', '.mkv']);

function invalid(path: string, message: string): VideoError {
  return new VideoError('INVALID_ARGUMENT', `Cannot write ${quoteName(path)}: ${message}`, path);
}

function checkOptions(opts: VideoWriterOptions): void {
  const { path, width, height, fps } = opts;
  const ext = extname(path).toLowerCase();
  if (!CONTAINERS.has(ext)) throw invalid(path, `use one of ${[...CONTAINERS].join(', ')} as the file extension.`);
  const dim = (n: number) => Number.isInteger(n) && n > 0 && n <= 16384;
  if (!dim(width) || !dim(height)) throw invalid(path, `frame size ${width}x${height} must be whole numbers from 1 to 16384.`);
  const fpsOk =
    typeof fps === 'number'
      ? Number.isFinite(fps) && fps > 0 && fps <= 1000
      : /^\d+(\.\d+)?(\/\d+)?$/.test(fps) && Number(fps.split('/')[1] ?? 1) > 0 && Number(fps.split('/')[0]) > 0;
  if (!fpsOk) throw invalid(path, `frame rate ${String(fps)} must be a positive number or a rational such as 30000/1001.`);
  if (opts.crf !== undefined && !(Number.isFinite(opts.crf) && opts.crf >= 0 && opts.crf <= 51)) {
    throw invalid(path, `crf ${opts.crf} must be between 0 and 51.`);
  }
}

/** Checks the folder and creates the (empty) temp file: creating a file is the only reliable writability test, since access() answers yes for root and ignores read-only mounts. */
export async function createTempFile(path: string): Promise<string> {
  const dir = dirname(resolve(path));
  let dirInfo;
  try {
    dirInfo = await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new VideoError('NOT_FOUND', `Output folder does not exist: ${quoteName(dir)} (for ${quoteName(path)}). Create it or choose another folder.`, dir);
    }
    throw new VideoError('NOT_WRITABLE', `Cannot use output folder ${quoteName(dir)} (${code ?? String(err)}). Choose another folder.`, dir);
  }
  if (!dirInfo.isDirectory()) {
    throw new VideoError('NOT_FOUND', `Output folder ${quoteName(dir)} is a file, not a folder (for ${quoteName(path)}). Choose another folder.`, dir);
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new VideoError('NOT_WRITABLE', `Cannot write ${quoteName(path)}: a folder of that name exists. Choose another file name.`, path);
  }
  const ext = extname(path);
  const tmp = join(dir, `.${basename(path, ext)}.${process.pid}-${randomBytes(4).toString('hex')}.partial${ext}`);
  try {
    await (await open(tmp, 'wx')).close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'the disk is read-only'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : (code ?? String(err));
    throw new VideoError('NOT_WRITABLE', `Cannot write to folder ${quoteName(dir)} (${why}), so ${quoteName(basename(path))} cannot be saved there. Choose another folder.`, dir);
  }
  return tmp;
}

function encodeArgs(opts: VideoWriterOptions, tmp: string, withAudio: boolean): string[] {
  const { width, height } = opts;
  const evenW = width + (width % 2);
  const evenH = height + (height % 2);
  const filters: string[] = [];
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-y'];
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(opts.fps), '-i', 'pipe:0');
  if (withAudio && opts.audioFrom) {
    // Input seeking: the audio from that moment on, decoded sample-exact.
    const at = opts.audioStartSec ?? 0;
    args.push(...SAFE_INPUT_OPTIONS, ...(at > 0 ? ['-ss', at.toFixed(6)] : []), '-i', `file:${opts.audioFrom}`);
  }
  args.push('-map', '0:v:0');
  if (opts.lossless) {
    args.push('-c:v', 'libx264rgb', '-preset', opts.preset ?? 'medium', '-qp', '0', '-pix_fmt', 'rgb24');
  } else {
    encodeYuvArgs(args, filters, opts, width, height, evenW, evenH);
  }
  if (withAudio) {
    // apad makes the audio endless and -shortest then ends the file with the video: the
    // video's duration is kept whether the source audio is longer or shorter. Padding needs
    // a re-encode, so audio is always AAC.
    args.push('-map', '1:a:0', '-c:a', 'aac', '-b:a', '192k', '-af', 'apad', '-shortest');
  }
  const ext = extname(opts.path).toLowerCase();
  if (ext !== '.mkv') args.push('-movflags', '+faststart');
  args.push(`file:${tmp}`);
  return args;
}

function encodeYuvArgs(args: string[], filters: string[], opts: VideoWriterOptions, width: number, height: number, evenW: number, evenH: number): void {
  if (evenW !== width || evenH !== height) {
    // Pad to even size and smear the edge into the new column/row, so chroma subsampling does
    // not bleed a black border into the picture.
    filters.push(`pad=${evenW}:${evenH}:0:0`);
    filters.push(`fillborders=right=${evenW - width}:bottom=${evenH - height}:mode=smear`);
  }
  // Convert with the BT.709 matrix and tag the stream as such, so players and our own decoder
  // (which honours the tags) convert back with the same matrix.
  filters.push('scale=out_color_matrix=bt709:out_range=tv:flags=bicubic+accurate_rnd+full_chroma_int', 'format=yuv420p');
  args.push('-vf', filters.join(','));
  args.push('-c:v', 'libx264', '-preset', opts.preset ?? 'medium', '-crf', String(opts.crf ?? 18), '-pix_fmt', 'yuv420p');
  args.push('-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv');
}

type WriterState = 'open' | 'closing' | 'closed' | 'failed' | 'aborted';

/**
 * The hidden partial files a writer of `path` leaves beside it when its process is killed before
 * it can clean up (`.NAME.<pid>-<hex>.partial.EXT`): the job manager removes them after such a
 * job, since no other job writes the same file meanwhile.
 */
export function removeStrayPartials(path: string): string[] {
  const dir = dirname(resolve(path));
  const ext = extname(path);
  const stem = basename(path, ext);
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${escape(stem)}\\.\\d+-[0-9a-f]{8}\\.partial${escape(ext)}$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (!pattern.test(n)) continue;
    try {
      unlinkSync(join(dir, n));
      removed.push(n);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/**
 * Starts an H.264 (libx264, yuv420p) encode. Throws VideoError NOT_FOUND / NOT_WRITABLE for a bad
 * output folder, INVALID_ARGUMENT for bad sizes or rates, and the probe errors for a bad audioFrom.
 */
export async function createVideoWriter(opts: VideoWriterOptions): Promise<VideoWriter> {
  const { path, width, height, signal } = opts;
  throwIfAborted(signal);
  checkOptions(opts);
  const ffmpeg = resolveFfmpeg();
  const tmp = await createTempFile(path);
  let tool: RunningTool;
  let withAudio = false;
  try {
    if (opts.audioFrom) {
      const { result } = await probeMedia(opts.audioFrom, { what: 'Audio source' });
      withAudio = firstAudio(result) !== null;
    }
    throwIfAborted(signal);
    tool = startTool(ffmpeg, encodeArgs(opts, tmp, withAudio), ['pipe', 'ignore', 'pipe']);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const stdin = tool.child.stdin!;
  // Write errors (EPIPE when ffmpeg dies) arrive through the write callbacks; this keeps them from
  // also surfacing as an unhandled 'error' event.
  stdin.on('error', () => {});

  const frameBytes = width * height * 3;
  let state: WriterState = 'open';
  let framesWritten = 0;
  let failure: Error | undefined;
  let queue: Promise<void> = Promise.resolve();

  const cleanup = async () => {
    stdin.destroy();
    await stopTool(tool);
    await rm(tmp, { force: true });
  };

  const cancelled = (): CancelledError => (signal?.aborted ? cancelledFrom(signal) : new CancelledError(`Writing ${quoteName(path)} was cancelled.`));

  /** Turns an ffmpeg exit or pipe error into the writer's one failure, removing the temp file. */
  const fail = async (): Promise<Error> => {
    if (state === 'aborted') return cancelled();
    if (failure) return failure;
    state = 'failed';
    stdin.destroy();
    const status = await tool.exited;
    await rm(tmp, { force: true });
    if (status.spawnError) {
      failure = spawnFailure(ffmpeg, status.spawnError);
    } else {
      const reason = tool.stderr.lastLine() || `ffmpeg exited with ${status.code ?? status.signal}`;
      failure = new VideoError('ENCODE_FAILED', `Could not write ${quoteName(path)}: ${reason}.`, path);
    }
    return failure;
  };

  const abort = async (): Promise<void> => {
    if (state === 'closed' || state === 'aborted') return;
    state = 'aborted';
    await cleanup();
  };

  const onAbort = () => void abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const detach = () => signal?.removeEventListener('abort', onAbort);

  const writeNow = async (frame: Uint8Array): Promise<void> => {
    if (state === 'aborted') throw cancelled();
    if (state === 'failed') throw failure ?? (await fail());
    if (state !== 'open') throw new VideoError('INVALID_ARGUMENT', `Cannot write to ${quoteName(path)}: the writer is already closed.`, path);
    if (!(frame instanceof Uint8Array) || frame.length !== frameBytes) {
      throw new VideoError(
        'INVALID_ARGUMENT',
        `Cannot write frame ${framesWritten} to ${quoteName(path)}: expected ${frameBytes} bytes (${width}x${height} RGB), got ${frame?.length ?? 0}.`,
        path,
      );
    }
    // The callback fires once the pipe has taken all the bytes: that is the backpressure
    // (one frame in flight) and what makes reusing the caller's buffer safe.
    const written = new Promise<Error | null>((res) => stdin.write(frame, (err) => res(err ?? null)));
    const outcome = await Promise.race([written, tool.exited.then(() => 'exited' as const)]);
    if (outcome === null) {
      framesWritten++;
      return;
    }
    // state may have changed while awaiting (abort() from elsewhere).
    if ((state as WriterState) === 'aborted') throw cancelled();
    throw await fail();
  };

  const writer: VideoWriter = {
    path,
    outputWidth: opts.lossless ? width : width + (width % 2),
    outputHeight: opts.lossless ? height : height + (height % 2),
    hasAudio: withAudio,
    get framesWritten() {
      return framesWritten;
    },
    write(frame) {
      const next = queue.then(() => writeNow(frame));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      await queue;
      if (state === 'aborted') throw cancelled();
      if (state === 'failed') throw failure ?? (await fail());
      if (state !== 'open') return;
      if (framesWritten === 0) {
        await abort();
        detach();
        throw new VideoError('EMPTY', `Nothing was written to ${quoteName(path)}: no frames were given. The file was not created.`, path);
      }
      state = 'closing';
      stdin.end();
      const status = await tool.exited;
      if ((state as WriterState) === 'aborted') throw cancelled();
      if (status.code !== 0 || status.spawnError) {
        detach();
        throw await fail();
      }
      try {
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        state = 'failed';
        failure = new VideoError('NOT_WRITABLE', `Could not move the finished video into place as ${quoteName(path)} (${(err as Error).message}).`, path);
        detach();
        throw failure;
      }
      state = 'closed';
      detach();
    },
    async abort() {
      await abort();
      detach();
    },
  };
  return writer;
}
