// Where the encoder and the evaluation look for LPIPS-VGG weights for a model bundle:
//   1. MODEL_DIR/perceptual           (a perceptual bundle inside the model's folder)
//   2. MODEL_DIR/../perceptual/lpips-vgg  (beside the model: models/perceptual/lpips-vgg
//                                      for a model in models/NAME, where
//                                      "stylecast perceptual import" writes by default)
// The first folder holding a manifest.json is loaded; a broken one is an error, never a
// silent fallback to the MS-SSIM proxy. No bundle at either place means no LPIPS.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PerceptualBundle, loadPerceptualBundle } from './bundle';

export const DEFAULT_PERCEPTUAL_NAME = 'lpips-vgg';

export function perceptualCandidates(modelDir: string): string[] {
  const m = resolve(modelDir);
  return [join(m, 'perceptual'), join(dirname(m), 'perceptual', DEFAULT_PERCEPTUAL_NAME)];
}

export function findPerceptualBundle(modelDir: string): PerceptualBundle | null {
  const dir = perceptualCandidates(modelDir).find((d) => existsSync(join(d, 'manifest.json')));
  return dir ? loadPerceptualBundle(dir) : null;
}
