// Reads what a video file holds (size, frame rate, frame count, audio) with
// ffprobe, and turns every way a file can be unusable into one typed VideoError.
import { open, stat } from 'node:fs/promises';
import exifr from 'exifr';
import { VideoError, quoteName } from './errors';
import { SAFE_INPUT_OPTIONS, resolveFfprobe, runTool, type StderrTail } from './ffmpeg';

export interface AudioInfo {
  codec: string;
  sampleRate: number;
  channels: number;
  durationSec: number | null;
}

export interface VideoInfo {
  path: string;
  /**
   * Size of the decoded frames: as shown, in square pixels. Non-square stored pixels (the pixel
   * aspect below) stretch the stored width when wide, the height when tall; then the rotation
   * below is applied (ffmpeg autorotates).
   */
  width: number;
  height: number;
  /** Size as stored in the stream, before the pixel aspect and the rotation. */
  codedWidth: number;
  /** The stream's index in the file: the one decoded (see pickVideoStream). */
  streamIndex: number;
  codedHeight: number;
  /** Display rotation in degrees (0, 90, 180 or 270) from the rotate tag or display matrix; 0 if none. */
  rotation: number;
  /**
   * Width over height of one stored pixel (the stream's sample aspect ratio): 1 for square pixels
   * and when the file gives none; 8/9 for NTSC DV, 4/3 for HDV's 1440x1080 shown at 1920x1080.
   */
  pixelAspect: number;
  /**
   * A still image's EXIF orientation (1 to 8; 1 when upright or absent, and for videos): a phone's
   * portrait photo is often stored sideways with 6 or 8. `width` and `height` are after it, and
   * decoding applies it (ffmpeg does not), as browsers and viewers do.
   */
  orientation: number;
  /**
   * High dynamic range: 'pq' (SMPTE 2084: HDR10, Dolby Vision) or 'hlg' (ARIB STD-B67: a phone's
   * HDR video) from the stream's transfer characteristic; null for standard range. Decoding maps
   * it to standard-range BT.709 (hdrToSdrFilters), so the encoder, its crops and the export see
   * the picture a standard screen would show.
   */
  hdr: 'pq' | 'hlg' | null;
  /** The stream's colour tags as ffprobe names them (color_primaries, color_space, color_range), null where untagged. */
  color: { primaries: string | null; matrix: string | null; range: string | null };
  /**
   * 'bt709' for a standard-range stream whose colour matrix is untagged at 720p and up (its stored
   * longer side at least 1280 or its shorter at least 720, whichever way it is turned): players read
   * such a stream as BT.709 (ffmpeg alone reads it as BT.601; players differ below: mpv takes
   * BT.709 above 576 lines), and so does decoding. null: the stream's own tag, or BT.601 below.
   */
  assumedMatrix: 'bt709' | null;
  /** Average frame rate (frames / duration), as a number and as ffprobe's exact rational ("30000/1001"). */
  fps: number;
  fpsRational: string;
  /**
   * True when frames taken in order at `fps` stray from their presentation times by more than 1.5
   * frames and 40 ms somewhere (frameTiming); for a file whose frames have no times, when its
   * nominal (r_frame_rate) and average rates differ.
   */
  variableFrameRate: boolean;
  /** The largest such gap in seconds, or null when the frames have no times. */
  driftSec: number | null;
  /** The nominal rate (ffprobe's r_frame_rate, e.g. a phone's recording rate "30/1"), or null when the file gives none. */
  nominalFpsRational: string | null;
  frameCount: number;
  /**
   * When the video's first frame is shown, in seconds from the start of the file (the earliest
   * stream): 0 when video and sound start together. Frame k's sound is at videoStartSec plus k
   * over the rate, which is where export and playback take it from.
   */
  videoStartSec: number;
  /** The file's start time (ffprobe's format start_time: its earliest stream's first time), 0 when unknown. */
  fileStartSec: number;
  /** Duration of the video stream. */
  durationSec: number;
  /** Duration of the whole file (the longest stream). */
  containerDurationSec: number;
  container: string;
  videoCodec: string;
  pixelFormat: string;
  hasAudio: boolean;
  audioCodec: string | null;
  audio: AudioInfo | null;
}

// ---- ffprobe JSON ----------------------------------------------------------

export interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  coded_width?: number;
  coded_height?: number;
  pix_fmt?: string;
  sample_aspect_ratio?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_space?: string;
  color_range?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  duration?: string;
  start_time?: string;
  sample_rate?: string;
  channels?: number;
  disposition?: { attached_pic?: number; default?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
}

export interface ProbeResult {
  streams: ProbeStream[];
  format: { format_name?: string; duration?: string; start_time?: string };
}

export interface MediaProbe {
  path: string;
  result: ProbeResult;
  stderr: StderrTail;
}

const ISO_BMFF_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'styp']);

/** Whether the file starts like an MP4/MOV: a box header with a known box type. */
async function looksLikeIsoBmff(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await fh.read(head, 0, 8, 0);
      return bytesRead === 8 && ISO_BMFF_BOXES.has(head.toString('latin1', 4, 8));
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/** Existence, type and size checks, so these cases never reach ffprobe's vaguer messages. */
export async function checkInputFile(path: string, what = 'Video file'): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new VideoError('NOT_FOUND', `${what} not found: ${quoteName(path)}. Check that it exists and was not moved or renamed.`, path);
    }
    throw new VideoError('NOT_READABLE', `Cannot read ${quoteName(path)} (${code ?? String(err)}). Check its permissions.`, path);
  }
  if (info.isDirectory()) {
    throw new VideoError('NOT_A_VIDEO', `${quoteName(path)} is a folder, not a ${what.toLowerCase()}. Choose a file inside it.`, path);
  }
  if (info.size === 0) {
    throw new VideoError('EMPTY', `${what} is empty (0 bytes): ${quoteName(path)}. Copy or export it again.`, path);
  }
}

/** ffprobe prefixes its last error line with the input name: drop it, the message names the file itself. */
function ffprobeReason(stderr: StderrTail, input: string): string {
  let line = stderr.lastLine();
  for (const prefix of [`${input}: `, `${input.replace(/^file:/, '')}: `]) {
    if (line.startsWith(prefix)) line = line.slice(prefix.length);
  }
  return line;
}

/**
 * Runs ffprobe on a file that passed checkInputFile. Files ffprobe rejects become
 * TRUNCATED (an MP4/MOV whose index never got written) or NOT_A_VIDEO.
 */
export async function probeMedia(
  path: string,
  opts: { countPackets?: boolean; what?: string } = {},
): Promise<MediaProbe> {
  await checkInputFile(path, opts.what ?? 'Media file');
  const bin = resolveFfprobe();
  // The file: prefix stops names like "concat:x" or "-x" being read as protocols or options.
  const input = `file:${path}`;
  const args = ['-v', 'error', '-hide_banner', '-show_streams', '-show_format', '-of', 'json'];
  if (opts.countPackets) args.push('-count_packets');
  args.push(...SAFE_INPUT_OPTIONS, '-i', input);
  const { status, stdout, stderr } = await runTool(bin, args);
  let result: ProbeResult | undefined;
  try {
    const parsed = JSON.parse(stdout) as Partial<ProbeResult>;
    if (parsed.format && Array.isArray(parsed.streams)) {
      result = { streams: parsed.streams, format: parsed.format };
    }
  } catch {
    result = undefined;
  }
  if (status.code !== 0 || !result) {
    const reason = ffprobeReason(stderr, input) || `ffprobe exited with ${status.code ?? status.signal}`;
    if (/moov atom not found/i.test(stderr.all) && (await looksLikeIsoBmff(path))) {
      throw new VideoError(
        'TRUNCATED',
        `Video file is incomplete: ${quoteName(path)} ends before its index (moov atom), as after an interrupted download, copy or recording. Copy or export it again.`,
        path,
      );
    }
    throw new VideoError(
      'NOT_A_VIDEO',
      `Not a video file that Stylecast reads: ${quoteName(path)} (${reason}). It reads MP4/MOV, Matroska/WebM and AVI files; convert others (an MPEG-TS .mts, a GIF) to .mp4 first.`,
      path,
    );
  }
  return { path, result, stderr };
}

// ---- VideoInfo -------------------------------------------------------------

export interface Rational {
  num: number;
  den: number;
}

function parseRational(text: string | undefined): Rational | undefined {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text ?? '');
  if (!m) return undefined;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  return num > 0 && den > 0 ? { num, den } : undefined;
}

function positive(text: string | number | undefined): number | undefined {
  const n = typeof text === 'number' ? text : text === undefined ? NaN : Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function rotationOf(stream: ProbeStream): number {
  const raw = stream.tags?.rotate ?? stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const deg = Number(raw ?? 0);
  if (!Number.isFinite(deg)) return 0;
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
}

/** The HDR curve a stream is tagged with, or null. */
const hdrOf = (v: ProbeStream): VideoInfo['hdr'] => (v.color_transfer === 'smpte2084' ? 'pq' : v.color_transfer === 'arib-std-b67' ? 'hlg' : null);

/** Whether ffprobe names no value for a colour tag (matrix, primaries). */
export const untagged = (tag: string | null | undefined): boolean => !tag || tag === 'unknown' || tag === 'unspecified' || tag === 'reserved';

/** ffprobe's names of the containers of still images (ffmpeg reads these and no others, SAFE_INPUT_OPTIONS). */
const STILL_FORMATS = /(^|,)(image2|jpeg_pipe|png_pipe|bmp_pipe|webp_pipe)(,|$)/;

/** A still image's EXIF orientation, 1 to 8 (exifr reads the tag from its header); 1 when it has none or is unreadable. */
async function exifOrientation(path: string): Promise<number> {
  try {
    const o = await exifr.orientation(path);
    return typeof o === 'number' && Number.isInteger(o) && o >= 1 && o <= 8 ? o : 1;
  } catch {
    return 1;
  }
}

/**
 * The ffmpeg filters that show a stored image as EXIF orientation `o` says (TIFF/EXIF 2.3,
 * Orientation): 2 mirror, 3 turn half, 4 flip, 5 transpose, 6 turn right, 7 transverse, 8 turn left.
 */
export function orientationFilters(o: number): string[] {
  return ({ 2: ['hflip'], 3: ['hflip', 'vflip'], 4: ['vflip'], 5: ['transpose=cclock_flip'], 6: ['transpose=clock'], 7: ['transpose=clock_flip'], 8: ['transpose=cclock'] } as Record<number, string[]>)[o] ?? [];
}

// ffprobe's names of colour primaries and matrices, and zscale's for the same.
const ZSCALE_PRIMARIES: Record<string, string> = { bt709: 'bt709', bt2020: 'bt2020', smpte432: 'smpte432', smpte431: 'smpte431', smpte170m: '170m', smpte240m: '240m' };
const ZSCALE_MATRIX: Record<string, string> = { bt709: 'bt709', bt2020nc: 'bt2020nc', bt2020c: 'bt2020c', smpte170m: '170m', bt470bg: '470bg' };

/**
 * The ffmpeg filters that bring an HDR picture (`hdr`, with the stream's colour tags) to
 * standard-range BT.709: to linear light with 100 nits as 1.0 (SDR white), its primaries to
 * BT.709, then ffmpeg's "mobius" tone map, linear up to 0.8 of SDR white (about level 230 of
 * 255) and rolling brighter light off into the rest, then the BT.709 curve. Primaries and matrix
 * that the stream leaves untagged are taken as HDR's BT.2020 (a file tagged with its curve
 * alone). A standard-range picture carried as HLG or PQ comes back with 0.2 to 1.4 levels of 255
 * more error than its standard-range copy (four clips), a grey ramp's levels up to 230 within 1.5;
 * read as standard range it is 17 to 45 levels off, flat and pale.
 */
export function hdrToSdrFilters(hdr: VideoInfo['hdr'], color: Partial<VideoInfo['color']> = {}): string[] {
  if (!hdr) return [];
  const pin = ZSCALE_PRIMARIES[color.primaries ?? ''] ?? 'bt2020';
  const min = ZSCALE_MATRIX[color.matrix ?? ''] ?? 'bt2020nc';
  const rin = color.range === 'pc' ? 'full' : 'limited';
  return [
    // The output primaries named too: otherwise an untagged input's stay unknown for the next step.
    `zscale=t=linear:npl=100:tin=${hdr === 'pq' ? 'smpte2084' : 'arib-std-b67'}:pin=${pin}:min=${min}:rin=${rin}:p=${pin}`,
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=tonemap=mobius:param=0.8:desat=0',
    'zscale=t=bt709:m=bt709:r=tv',
    'format=yuv444p'
  ];
}

/** The stream's sample aspect ratio as a number; 1 when absent, unknown ("0:1", "N/A") or implausible. */
function pixelAspectOf(stream: ProbeStream): number {
  const m = /^(\d+):(\d+)$/.exec(stream.sample_aspect_ratio ?? '');
  if (!m) return 1;
  const k = Number(m[1]) / Number(m[2]);
  return Number.isFinite(k) && k >= 0.1 && k <= 10 ? k : 1;
}

export function isVideoStream(s: ProbeStream): boolean {
  // Cover art in audio files is a one-picture "video" stream: not a video.
  return s.codec_type === 'video' && !s.disposition?.attached_pic;
}

export function firstAudio(result: ProbeResult): AudioInfo | null {
  const a = result.streams.find((s) => s.codec_type === 'audio');
  if (!a) return null;
  return {
    codec: a.codec_name ?? 'unknown',
    sampleRate: positive(a.sample_rate) ?? 0,
    channels: a.channels ?? 0,
    durationSec: positive(a.duration) ?? null,
  };
}

/**
 * How the picture is read where that differs from its stored pixels (turned, non-square pixels,
 * an EXIF orientation, HDR), in words for the encode screen and the CLI; null when it is read as stored.
 */
export function pictureNote(info: Pick<VideoInfo, 'rotation' | 'pixelAspect' | 'orientation' | 'hdr' | 'codedWidth' | 'codedHeight'>): string | null {
  const notes: string[] = [];
  if (info.rotation) notes.push(`recorded ${info.rotation === 180 ? 'upside down' : 'sideways'}: read upright, as players show it`);
  if (info.orientation !== 1) notes.push(`a photo stored ${info.orientation >= 5 ? 'sideways' : 'flipped or upside down'}: read as its EXIF orientation ${info.orientation} shows it`);
  if (info.pixelAspect !== 1) notes.push(`non-square pixels (${Number(info.pixelAspect.toFixed(3))}:1, stored ${info.codedWidth} x ${info.codedHeight}): stretched to square ones`);
  if (info.hdr) notes.push(`HDR (${info.hdr === 'hlg' ? 'HLG' : 'PQ'}): tone-mapped to standard range (BT.709)`);
  if (!notes.length) return null;
  const text = notes.join('; ');
  return text[0]!.toUpperCase() + text.slice(1) + '.';
}

/**
 * A warning for a video whose timing the encoder and export cannot keep exactly: frames are taken
 * by their order and exported at the average rate, so a variable frame rate drifts from the sound.
 * `remedy` says how to get a constant-rate copy where the warning is shown.
 */
export function timingWarning(info: VideoInfo, remedy = 'make a constant-rate copy first'): string | null {
  if (!info.variableFrameRate) return null;
  const drift = info.driftSec !== null ? `, so a frame can be up to ${info.driftSec.toFixed(2)} s from its sound` : ', so the sound can drift out of sync over a long range';
  return `${quoteName(info.path)} has a variable frame rate (${info.fps.toFixed(3)} per second on average): its frames are encoded in order and exported at that average rate${drift}. For exact sync, ${remedy}.`;
}

/**
 * The video stream to read. Of the video streams that are not cover art, those of more than one
 * frame when there are any (a file can hold a still picture stream before its video: a Matroska
 * file with an image track, a camera's thumbnail track); of those, the first marked default (the
 * track players show), else the first.
 */
export function pickVideoStream(streams: readonly ProbeStream[]): ProbeStream | undefined {
  const frames = (s: ProbeStream) => {
    const n = Number(s.nb_read_packets ?? s.nb_frames ?? NaN);
    return Number.isFinite(n) ? n : -1;
  };
  const video = streams.filter(isVideoStream);
  const moving = video.filter((s) => frames(s) > 1);
  const pool = moving.length ? moving : video;
  return pool.find((s) => s.disposition?.default === 1) ?? pool[0];
}

/**
 * The stream's first presentation time from the start of the file (ffprobe's start times; ffmpeg's
 * input seeking counts from the file's start too). 0 when either is unknown, and never below 0.
 */
export function streamStartOffset(s: ProbeStream, format: ProbeResult['format']): number {
  const [a, b] = [Number(s.start_time ?? NaN), Number(format.start_time ?? NaN)];
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, Math.round((a - b) * 1e6) / 1e6) : 0;
}

/** The time of frame `k` from the first frame, in seconds, from the exact rate ("30000/1001") where there is one. */
export function frameTimeSec(k: number, fpsRational: string | undefined, fps: number): number {
  const m = /^(\d+)\/(\d+)$/.exec(fpsRational ?? '');
  return m && Number(m[1]) > 0 ? (k * Number(m[2])) / Number(m[1]) : k / fps;
}

/** A stream's start times: when its first frame is shown from the file's start, and the file's own start (0 when unknown). */
function startTimes(v: ProbeStream, format: ProbeResult['format']): { videoStartSec: number; fileStartSec: number } {
  const f = Number(format.start_time ?? NaN);
  return { videoStartSec: streamStartOffset(v, format), fileStartSec: Number.isFinite(f) ? Math.round(f * 1e6) / 1e6 : 0 };
}

/**
 * When the first frame is shown on a browser media element's clock (an <audio> or <video>
 * currentTime), in seconds: Chromium keeps a file's positive start time and rebases a negative
 * one to 0, where ffmpeg's input seeking counts from the file's start either way.
 */
export const browserClockStart = (t: { videoStartSec: number; fileStartSec: number }): number => t.videoStartSec + Math.max(0, t.fileStartSec);

/**
 * A project source's start times (source.videoStartSec, source.fileStartSec): the recorded ones,
 * or, for a project made before they were recorded, the source's (its header only: no packet
 * count); zeros when it cannot be read.
 */
export async function sourceStartOf(recorded: { videoStartSec?: number; fileStartSec?: number }, source: string | null | undefined): Promise<{ videoStartSec: number; fileStartSec: number }> {
  if (recorded.videoStartSec !== undefined) return { videoStartSec: recorded.videoStartSec, fileStartSec: recorded.fileStartSec ?? 0 };
  const none = { videoStartSec: 0, fileStartSec: 0 };
  if (!source) return none;
  return probeMedia(source).then(
    ({ result }) => {
      const v = pickVideoStream(result.streams);
      return v ? startTimes(v, result.format) : none;
    },
    () => none
  );
}

/** The finest time base ffprobe prints: rates measured from times are rationals over microseconds. */
const US = 1_000_000;

/** num/den in lowest terms (both positive integers). */
export function reduced(num: number, den: number): Rational {
  let [a, b] = [num, den];
  while (b) [a, b] = [b, a % b];
  return { num: num / a, den: den / a };
}

export interface FrameTiming {
  /** The rate at which frames taken in order best keep their times. */
  rate: Rational;
  /** The largest gap between a frame's time and the time its place in the order gives it, in seconds. */
  driftSec: number;
  /** Whether that gap is audible: more than 1.5 frames and more than 40 ms. */
  variable: boolean;
}

/**
 * How frames taken in order at one rate keep to their presentation times (`times`, in any order):
 * the nominal rate if it keeps every frame within the audible limit (1.5 frames and 40 ms), else
 * the stated (average) rate if that does, else whichever of those and the frames' measured average
 * (count - 1 over the span, a rational over microseconds) strays least. Null for fewer than two
 * distinct times.
 */
export function frameTiming(times: readonly number[], stated: Rational | undefined, nominal: Rational | undefined): FrameTiming | null {
  const t = [...times].sort((a, b) => a - b);
  const n = t.length;
  if (n < 2 || !(t[n - 1]! > t[0]!)) return null;
  const drift = (r: Rational): number => {
    const step = r.den / r.num;
    let d = 0;
    for (let k = 0; k < n; k++) d = Math.max(d, Math.abs(t[k]! - t[0]! - k * step));
    return d;
  };
  const spanUs = Math.round((t[n - 1]! - t[0]!) * US);
  const measured = reduced((n - 1) * US, spanUs);
  const limit = (r: Rational): number => Math.max((1.5 * r.den) / r.num, 0.04);
  const candidates = [nominal, stated].filter((r): r is Rational => !!r && r.num / r.den <= 1000).map((rate) => ({ rate, driftSec: drift(rate) }));
  const keeps = candidates.find((c) => c.driftSec <= limit(c.rate));
  const best = keeps ?? [...candidates, { rate: measured, driftSec: drift(measured) }].reduce((a, b) => (b.driftSec < a.driftSec ? b : a));
  return { ...best, variable: best.driftSec > limit(best.rate) };
}

/**
 * The presentation times of one stream's packets, in file order (NaN where a packet has none), or
 * null when ffprobe fails. A CSV list of that stream alone: listing every stream's packets as JSON
 * took 7 times as long as counting them on a 10-minute clip.
 */
async function packetTimes(path: string, streamIndex: number): Promise<number[] | null> {
  const args = ['-v', 'error', '-hide_banner', '-select_streams', String(streamIndex), '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', ...SAFE_INPUT_OPTIONS, '-i', `file:${path}`];
  const { status, stdout } = await runTool(resolveFfprobe(), args);
  if (status.code !== 0) return null;
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => (l.trim() === '' || l.startsWith('N/A') ? NaN : Number.parseFloat(l)));
}

/**
 * The last probes, by file and version (device, inode, size and modification time): the studio
 * asks for a source crop, an encode or an export decodes a range, each probing the file again.
 */
const probes = new Map<string, Promise<VideoInfo>>();
const PROBES_KEPT = 16;

/** Probes a video file. Throws VideoError with code NOT_FOUND, EMPTY, NOT_A_VIDEO, NO_VIDEO_STREAM, TRUNCATED or FFMPEG_MISSING. */
export async function probeVideo(path: string): Promise<VideoInfo> {
  const st = await stat(path, { bigint: true }).catch(() => null);
  // A missing or unreadable file is reported by the probe itself, never remembered.
  if (!st?.isFile()) return probeVideoUncached(path);
  const key = `${path}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  let p = probes.get(key);
  if (!p) {
    p = probeVideoUncached(path);
    probes.set(key, p);
    p.catch(() => probes.delete(key));
    if (probes.size > PROBES_KEPT) probes.delete(probes.keys().next().value!);
  }
  // Each caller gets its own copy: VideoInfo is a plain object a caller may change.
  return structuredClone(await p);
}

async function probeVideoUncached(path: string): Promise<VideoInfo> {
  const { result, stderr } = await probeMedia(path, { countPackets: true, what: 'Video file' });
  const v = pickVideoStream(result.streams);
  if (!v) {
    const kinds = [...new Set(result.streams.map((s) => s.codec_type ?? 'unknown'))];
    const holds = kinds.length ? `it holds only ${kinds.join(' and ')}` : 'it holds no streams';
    throw new VideoError('NO_VIDEO_STREAM', `No video stream in ${quoteName(path)} (${holds}). Choose a video file.`, path);
  }

  const nbFrames = positive(v.nb_frames);
  const readPackets = Number(v.nb_read_packets ?? NaN);
  // A file cut after its index (faststart MP4) still probes, but its packets run out early.
  const shortOfPackets = nbFrames !== undefined && Number.isFinite(readPackets) && readPackets < Math.floor(nbFrames * 0.98);
  if (/partial file/i.test(stderr.all) || shortOfPackets) {
    const detail = shortOfPackets ? ` (only ${readPackets} of ${nbFrames} frames are present)` : '';
    throw new VideoError(
      'TRUNCATED',
      `Video file is incomplete: ${quoteName(path)} ends early${detail}, as after an interrupted download, copy or recording. Copy or export it again.`,
      path,
    );
  }
  // The frames a player shows, which the decoder gives: an MP4's edit list can leave packets out at
  // either end (a cut made with `ffmpeg -ss ... -c copy` keeps the packets from the key frame
  // before the cut, shown before the stream's start; ffmpeg 4.1's variable-rate MP4s end their
  // edit list before their last frames). Those within the stream's start and duration count.
  const listed = (await packetTimes(path, v.index)) ?? [];
  const allTimes = listed.filter(Number.isFinite);
  const timed = listed.length > 0 && allTimes.length === listed.length;
  const streamStart = Number.parseFloat(v.start_time ?? '');
  const streamDur = positive(v.duration);
  const times = timed && streamDur !== undefined && Number.isFinite(streamStart) ? allTimes.filter((t) => t >= streamStart - 1e-6 && t < streamStart + streamDur - 1e-6) : allTimes;
  const counted = nbFrames ?? (Number.isFinite(readPackets) ? readPackets : 0);
  const frameCount = timed && times.length > 0 && times.length < counted ? times.length : counted;
  if (frameCount <= 0) {
    throw new VideoError('EMPTY', `Video has no frames: ${quoteName(path)}. Choose another file.`, path);
  }

  const avg = parseRational(v.avg_frame_rate);
  const nominal = parseRational(v.r_frame_rate);
  const rate = avg ?? nominal;
  const streamDuration = positive(v.duration);
  const containerDuration = positive(result.format.duration);
  let fps: number;
  let fpsRational: string;
  if (rate) {
    fps = rate.num / rate.den;
    fpsRational = `${rate.num}/${rate.den}`;
  } else if (streamDuration ?? containerDuration) {
    fps = frameCount / (streamDuration ?? containerDuration ?? 1);
    fpsRational = String(fps);
  } else {
    throw new VideoError('NOT_A_VIDEO', `Cannot tell the frame rate of ${quoteName(path)}. Re-encode it to a standard video (e.g. H.264 .mp4).`, path);
  }
  // Frames are taken in order: whether that keeps them at their times is read from the times
  // themselves (a phone's dropped frames, a call's or a browser's recording; Matroska and WebM
  // state no average rate of their own, a browser's recording states 1000).
  const timing = times.length >= Math.max(2, frameCount * 0.98) ? frameTiming(times, rate, nominal) : null;
  let variableFrameRate: boolean;
  let driftSec: number | null = null;
  let measuredDuration: number | undefined;
  if (timing) {
    ({ variable: variableFrameRate, driftSec } = timing);
    if (`${timing.rate.num}/${timing.rate.den}` !== fpsRational) {
      fps = timing.rate.num / timing.rate.den;
      fpsRational = `${timing.rate.num}/${timing.rate.den}`;
    }
    measuredDuration = times.length / fps;
  } else {
    // No usable times: the stated average against the nominal rate.
    variableFrameRate = !!(avg && nominal) && Math.abs(avg.num / avg.den - nominal.num / nominal.den) > 0.005 * fps;
  }

  const codedWidth = v.width ?? 0;
  const codedHeight = v.height ?? 0;
  if (!(codedWidth > 0 && codedHeight > 0)) {
    throw new VideoError('NOT_A_VIDEO', `The video stream of ${quoteName(path)} has no frame size. Re-encode it to a standard video.`, path);
  }
  const rotation = rotationOf(v);
  const swap = rotation === 90 || rotation === 270;
  const hdr = hdrOf(v);
  const pixelAspect = pixelAspectOf(v);
  // In square pixels, with the picture's shape as players show it: wide pixels widen it and tall
  // ones heighten it, so no stored detail is scaled away. Then turned.
  const shownWidth = pixelAspect > 1 ? Math.round(codedWidth * pixelAspect) : codedWidth;
  const shownHeight = pixelAspect < 1 ? Math.round(codedHeight / pixelAspect) : codedHeight;
  const orientation = STILL_FORMATS.test(result.format.format_name ?? '') ? await exifOrientation(path) : 1;
  const turned = swap !== orientation >= 5; // 5 to 8 turn a quarter (rotation and EXIF never come together)
  const audio = firstAudio(result);
  const durationSec = streamDuration ?? measuredDuration ?? containerDuration ?? frameCount / fps;
  const { videoStartSec, fileStartSec } = startTimes(v, result.format);

  return {
    path,
    width: turned ? shownHeight : shownWidth,
    height: turned ? shownWidth : shownHeight,
    codedWidth,
    codedHeight,
    streamIndex: v.index,
    rotation,
    pixelAspect,
    orientation,
    hdr,
    color: { primaries: v.color_primaries ?? null, matrix: v.color_space ?? null, range: v.color_range ?? null },
    // 720p and up whichever way it is turned: the longer side 1280 or more, or the shorter 720 or more.
    assumedMatrix: !hdr && untagged(v.color_space) && (Math.max(codedWidth, codedHeight) >= 1280 || Math.min(codedWidth, codedHeight) >= 720) && !/^(rgb|gbr|bgr|gray|pal)/.test(v.pix_fmt ?? '') ? 'bt709' : null,
    fps,
    fpsRational,
    variableFrameRate,
    driftSec,
    nominalFpsRational: nominal ? `${nominal.num}/${nominal.den}` : null,
    frameCount,
    videoStartSec,
    fileStartSec,
    durationSec,
    containerDurationSec: containerDuration ?? durationSec,
    container: result.format.format_name ?? 'unknown',
    videoCodec: v.codec_name ?? 'unknown',
    pixelFormat: v.pix_fmt ?? 'unknown',
    hasAudio: audio !== null,
    audioCodec: audio?.codec ?? null,
    audio,
  };
}
