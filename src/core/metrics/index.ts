// Evaluation metrics (METHOD.md "What we measure"): pure TypeScript, no networks.
// Identity embeddings and landmarks come from elsewhere; these functions only compare them.
export {
  MSSSIM_WEIGHTS,
  downsample2x2,
  effectiveWindowSize,
  gaussianWindow,
  mse,
  msssim,
  msssimDetail,
  msssimScaleCount,
  psnr,
  psnrFloat,
  psnrFromMse,
  rgbToLuma,
  ssim,
  ssimPlane,
  type MsssimOptions,
  type MsssimResult,
  type PixelRegion,
  type PsnrOptions,
  type SsimOptions,
  type SsimParts,
} from './image';
export {
  OUTER_EYE_CORNERS,
  STABLE_POINTS_68,
  akd,
  akdNormalised,
  applySimilarity,
  expressionDistance,
  interOcularDistance,
  procrustesAlign,
  temporalJitter,
  temporalJitterPerFrame,
  velocityRms,
  type ExpressionDistanceOptions,
  type LandmarkSequence,
  type LandmarkSet,
  type SimilarityTransform,
} from './landmarks';
export { cosineSimilarity } from './vector';
export { percentile, summarise, type MetricSummary } from './summary';
export { PLOT_PALETTE, formatValue, linePlotPng, linePlotSvg, niceTicks, type LinePlotOptions, type PlotSeries } from './plot';
export { parseColor, type Rgb } from './svg';
export { findDejaVu, svgToPng } from './svg-png';
