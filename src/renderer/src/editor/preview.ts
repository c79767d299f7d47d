// What size the viewer renders at. While the playhead moves (scrubbing, playback, a drag) it
// asks for a small preview, which the engine draws by stopping the synthesis early (the skip
// architecture's image at that size); once the playhead rests it asks for the full resolution.
// DOM-free so that it is tested under plain Node.

/** The preview side while moving, before any render was timed. */
export const PREVIEW_SIZE = 256;
/** The smallest preview: below it a face is no longer readable. */
export const MIN_PREVIEW_SIZE = 64;
/** How long the playhead must rest before the full-resolution render is asked for. */
export const SETTLE_MS = 250;
/** A moving preview slower than this (3 frames per second) halves the preview size. */
export const MOVING_BUDGET_MS = 1000 / 3;

/** The first preview size for a model: 256, or the model's own size when that is smaller. */
export const initialPreviewSize = (resolution: number): number => Math.min(resolution, PREVIEW_SIZE);

/**
 * The next preview size after a moving render of `size` took `ms`: halved while it misses the
 * budget (not below 64 or the model's size), doubled back (up to 256) when it would still fit
 * with room to spare (each halving of the side cuts the cost by less than half, so 2.5x).
 */
export function adaptPreviewSize(resolution: number, size: number, ms: number): number {
  const floor = Math.min(resolution, MIN_PREVIEW_SIZE);
  if (ms > MOVING_BUDGET_MS && size / 2 >= floor) return size / 2;
  if (ms * 2.5 < MOVING_BUDGET_MS && size * 2 <= initialPreviewSize(resolution)) return size * 2;
  return size;
}

/** The size to ask for: the model's full resolution at rest, the preview size while moving. */
export const viewerRenderSize = (resolution: number, settled: boolean, previewSize: number): number => (settled ? resolution : Math.min(previewSize, resolution));
