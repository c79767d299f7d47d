// How many frames one loss-and-gradient run may hold. A config-f 1024 run peaks at about
// 4.1 GB resident at batch 1 and 20.5 GB at batch 8 (measured on the build machine), so each
// extra frame costs about 2.3 GB at 1024, and scales with the pixel count below that.
import { freemem } from 'node:os';

/** Bytes one more frame adds to a loss-and-gradient run at `resolution` (activations dominate). */
export function bytesPerFrame(resolution: number): number {
  return 2.4e9 * (resolution / 1024) ** 2 + 16e6;
}

/**
 * The batch the encoder uses unless told otherwise: STYLECAST_MAX_BATCH, else as many frames
 * as fit in half the memory free now (at least 1, at most 16). On a CPU batching buys only a
 * few percent, so this mostly matters on a GPU.
 */
export function defaultMaxBatch(resolution: number, free = freemem()): number {
  const env = Number(process.env.STYLECAST_MAX_BATCH);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(16, Math.floor((0.5 * free) / bytesPerFrame(resolution))));
}
