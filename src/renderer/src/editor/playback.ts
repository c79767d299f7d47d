// Where the project's frames sit in the source's sound: project frame 0 is the source's frame
// `firstFrame` (an encode of a range), and the source's frame 0 is shown at `firstFrameAtSec` on
// the audio element's clock (a video stream that starts after its audio), so playback seeks the
// audio there and reads the playhead back from the audio clock the same way.

/** The time in the source audio of project frame `frame`. */
export const audioTimeOf = (frame: number, firstFrame: number, fps: number, firstFrameAtSec = 0): number => firstFrameAtSec + (firstFrame + frame) / fps;

/** The project frame the source audio is at, at time `t` (a small epsilon absorbs float error at frame boundaries). */
export const frameAtAudioTime = (t: number, firstFrame: number, fps: number, firstFrameAtSec = 0): number => Math.floor((t - firstFrameAtSec) * fps + 1e-6) - firstFrame;
