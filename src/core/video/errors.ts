export type VideoErrorCode =
  | 'FFMPEG_MISSING' // no usable ffmpeg/ffprobe binary
  | 'NOT_FOUND' // the file (or the output folder) does not exist
  | 'NOT_READABLE' // exists but cannot be opened
  | 'EMPTY' // zero bytes, or no frames
  | 'NOT_A_VIDEO' // ffmpeg cannot read it as media
  | 'NO_VIDEO_STREAM' // media without a video stream (audio only)
  | 'TRUNCATED' // the file ends early (interrupted copy or recording)
  | 'NOT_WRITABLE' // the output folder cannot be written
  | 'INVALID_ARGUMENT' // bad sizes, frame rates, frame buffers
  | 'DECODE_FAILED' // ffmpeg failed while decoding
  | 'ENCODE_FAILED'; // ffmpeg failed while encoding

/** A one-line, user-facing error about a media file; `code` is what callers branch on. */
export class VideoError extends Error {
  readonly code: VideoErrorCode;
  /** The file (or folder) concerned, when there is one. */
  readonly file?: string;
  constructor(code: VideoErrorCode, message: string, file?: string) {
    super(oneLine(message));
    this.name = 'VideoError';
    this.code = code;
    this.file = file;
  }
}

export function isVideoError(err: unknown): err is VideoError {
  return err instanceof VideoError;
}

/** Collapses whitespace so an ffmpeg diagnostic never breaks a one-line message. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The path as the caller gave it, quoted, for messages. */
export function quoteName(path: string): string {
  return `"${path}"`;
}
