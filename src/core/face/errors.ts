// Typed errors of the face-alignment stage: callers branch on `code`, never on the message.

export type FaceAlignErrorCode =
  | 'NO_FACE' // no face in a run of frames too long to bridge (see `gaps`)
  | 'BAD_LANDMARKS' // landmarks that are not 68 finite points, or that give a degenerate quad
  | 'INVALID_ARGUMENT'; // bad sizes, buffers or options

/** An inclusive run of frame indices with no face. */
export interface FrameGap {
  start: number;
  end: number;
}

export class FaceAlignError extends Error {
  readonly code: FaceAlignErrorCode;
  /** For NO_FACE: the gaps that could not be filled, in source-frame indices. */
  readonly gaps?: FrameGap[];
  constructor(code: FaceAlignErrorCode, message: string, gaps?: FrameGap[]) {
    super(message);
    this.name = 'FaceAlignError';
    this.code = code;
    if (gaps) this.gaps = gaps;
  }
}

export function isFaceAlignError(err: unknown): err is FaceAlignError {
  return err instanceof FaceAlignError;
}
