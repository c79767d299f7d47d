// The Evaluate panel's picture: the per-frame plots of eval.png, drawn from the project's
// eval.json (what `stylecast eval` measured) and the encoder's loss of each frame.
import { evalPlotPng, readEvalPerFrame } from '../core/metrics/evaluate';
import { fileName } from '../shared/contract';

export interface EvaluatedProject {
  dir: string;
  sourcePath: string;
  /** The encoder's final loss of each encoded frame. */
  loss: ArrayLike<number>;
}

export function evaluationPlot(p: EvaluatedProject): { image: string; width: number; height: number; evaluated: boolean } {
  const perFrame = readEvalPerFrame(p.dir);
  const title = `Re-render vs source: ${fileName(p.sourcePath)}`;
  const png = evalPlotPng({ perFrame: perFrame ?? { psnr: [], ssim: [], akd: [] } }, title, `${p.loss.length} encoded frames`, p.loss, perFrame === null);
  // A PNG's IHDR chunk holds the width and height at bytes 16 and 20.
  return { image: `data:image/png;base64,${png.toString('base64')}`, width: png.readUInt32BE(16), height: png.readUInt32BE(20), evaluated: perFrame !== null };
}
