// Shared face-pipeline types. Coordinates are in source-frame pixels unless named otherwise.

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Detector confidence, 0..1. */
  score: number;
}

/** 68 iBUG landmarks as [x0, y0, x1, y1, ...] (136 numbers), the layout FFHQ alignment uses. */
export type Landmarks68 = Float32Array;

/**
 * A 2x3 affine map from crop pixels (u, v) to source pixels (x, y):
 * x = a*u + b*v + c, y = d*u + e*v + f, stored as [a, b, c, d, e, f].
 * Pixel centres sit at integer coordinates + 0.5 in both spaces.
 */
export type Affine = [number, number, number, number, number, number];

export interface FrameFace {
  index: number;
  box: FaceBox | null;
  landmarks: Landmarks68 | null;
}
