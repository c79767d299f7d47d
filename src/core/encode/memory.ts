// How many frames one loss-and-gradient run may hold. A config-f 1024 run peaks at about
// 4.1 GB resident at batch 1 and 20.5 GB at batch 8 (measured on the build machine), so each
// extra frame costs about 2.3 GB at 1024, and scales with the pixel count below that.
import { freemem } from 'node:os';

/** Bytes one more frame adds to a loss-and-gradient run at `resolution` (activations dominate). */
export function bytesPerFrame(resolution: number): number {
  return 2.4e9 * (resolution / 1024) ** 2 + 16e6;
}

/** Memory one loss-and-gradient run may take: a laptop with 16 GB must still encode at 1024. */
export const STEP_BUDGET_BYTES = 6e9;

/**
 * Frames one forward-only render may hold: a forward keeps about a quarter of a loss-and-gradient
 * run's bytes per frame, and its session's memory stays beside the loss session's, so renders
 * get 2.5 GB (4 frames at 1024, the whole Jacobian batch of 36 at 256 and below), and never fewer
 * than twice the loss batch. Measured on config-f 1024 (memory batch 2, the Jacobian's 36
 * renders): in chunks of 16 the encode peaked at 10.7 GB resident, of 8 at 8.8 GB.
 */
export function renderBatch(resolution: number, maxBatch: number): number {
  return Math.max(1, 2 * maxBatch, Math.floor(2.5e9 / (bytesPerFrame(resolution) / 4)));
}

/**
 * The batch the encoder uses unless told otherwise: STYLECAST_MAX_BATCH, else as many frames
 * as fit in half the memory free now and in 6 GB (at least 1, at most 16): 2 frames at 1024
 * (about 6.4 GB), 16 at 64. On a CPU batching buys only a few percent, so the cap costs
 * little; on a GPU, raise it with STYLECAST_MAX_BATCH.
 */
export function defaultMaxBatch(resolution: number, free = freemem()): number {
  const env = Number(process.env.STYLECAST_MAX_BATCH);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(16, Math.floor(Math.min(0.5 * free, STEP_BUDGET_BYTES) / bytesPerFrame(resolution))));
}
