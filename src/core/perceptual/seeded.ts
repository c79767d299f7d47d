// Seeded LPIPS-VGG weights of any widths: for gradient checks and timing without the
// real VGG16 (the computation does not depend on the values, only on the shapes).
import { Rng } from '../util/random';
import { LpipsVggWeights, TAP_CONVS, VGG16_CONVS } from './vgg';

/** `widths` are the channels of the five stages (the real network: 64, 128, 256, 512, 512). */
export function seededLpipsWeights(widths: readonly number[], seed: number): LpipsVggWeights {
  const rng = new Rng(seed);
  let cin = 3;
  const convs = VGG16_CONVS.map(({ stage }) => {
    const o = widths[stage]!;
    const shape: [number, number, number, number] = [o, cin, 3, 3];
    const weight = rng.normals(o * cin * 9, Math.sqrt(2 / (cin * 9)));
    // Positive biases keep feature vectors away from all-zero.
    const bias = Float32Array.from({ length: o }, () => 0.05 + 0.05 * rng.uniform());
    cin = o;
    return { weight, bias, shape };
  });
  const lins = TAP_CONVS.map((i) => Float32Array.from({ length: convs[i]!.shape[0] }, () => 0.2 * rng.uniform()));
  return { convs, lins };
}
