// Video I/O for the engine: probe, decode to RGB frames, encode RGB frames to H.264.
export { VideoError, isVideoError, type VideoErrorCode } from './errors';
export {
  resolveFfmpeg,
  resolveFfprobe,
  resolveBinary,
  type BinarySource,
  type FfTool,
  type ResolvedBinary,
} from './ffmpeg';
export { frameTiming, pickVideoStream, probeVideo, timingWarning, pictureNote, browserClockStart, frameTimeSec, sourceStartOf, streamStartOffset, type AudioInfo, type VideoInfo } from './probe';
export { decodeFrames, readFrames, type DecodeOptions, type Frame, type FrameSize } from './decode';
export { createVideoWriter, type VideoWriter, type VideoWriterOptions, type X264Preset } from './encode';
export { CONFORM_EXTENSIONS, conformVideo, constantRateOf, parseRate, type ConformOptions, type ConformResult } from './conform';
export { CancelledError, isCancelled, throwIfAborted } from '../util/cancel';
