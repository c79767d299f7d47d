// The torchvision VGG16 `features` layout that LPIPS taps, and the weights it needs.
// LPIPS (richzhang/PerceptualSimilarity, v0.1) cuts `features` into five slices ending at
// relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3 (indices 3, 8, 15, 22, 29): 13 conv3x3
// (padding 1) + ReLU, with a 2x2 stride-2 max pool opening slices 2 to 5 (4, 9, 16, 23).
// Channel widths are read from the tensors, so a VGG-shaped network with fewer channels
// goes through the same code as the real one (64, 128, 256, 512, 512).

export class PerceptualError extends Error {
  readonly code = 'PERCEPTUAL';
}

/** Convolutions per stage in VGG16 (torchvision cfg "D"). */
export const VGG16_CONVS_PER_STAGE = [2, 2, 3, 3, 3] as const;

export interface VggConv {
  /** Index in torchvision's `features` Sequential (the state dict's features.N). */
  index: number;
  stage: number;
}

/** The 13 convolutions of VGG16 `features` up to relu5_3, with their Sequential indices. */
export const VGG16_CONVS: readonly VggConv[] = (() => {
  const out: VggConv[] = [];
  let index = 0;
  VGG16_CONVS_PER_STAGE.forEach((n, stage) => {
    if (stage > 0) index += 1; // MaxPool2d(2, 2)
    for (let i = 0; i < n; i++) {
      out.push({ index, stage });
      index += 2; // Conv2d + ReLU
    }
  });
  return out;
})();

/** The LPIPS scaling layer of lpips v0.1: (x - shift) / scale on inputs in -1..1. */
export const LPIPS_SHIFT = [-0.03, -0.088, -0.188] as const;
export const LPIPS_SCALE = [0.458, 0.448, 0.45] as const;
/** lpips.normalize_tensor: x / (sqrt(sum_c x^2) + eps). */
export const LPIPS_NORM_EPS = 1e-10;

export interface ConvWeights {
  /** [C_out, C_in, 3, 3], OIHW as in PyTorch. */
  weight: Float32Array;
  bias: Float32Array;
  shape: [number, number, number, number];
}

export interface LpipsVggWeights {
  /** The 13 convs in `features` order (VGG16_CONVS). */
  convs: ConvWeights[];
  /** The five linear heads lin0..lin4, one non-negative weight per channel of their layer. */
  lins: Float32Array[];
}

/** Position in VGG16_CONVS of the last conv of each stage: the convs whose ReLU LPIPS taps. */
export const TAP_CONVS: readonly number[] = VGG16_CONVS_PER_STAGE.map((_, stage) => VGG16_CONVS.map((c) => c.stage).lastIndexOf(stage));

/** Channel width of each of the five tapped layers. */
export function tapWidths(w: LpipsVggWeights): number[] {
  return TAP_CONVS.map((i) => w.convs[i]!.shape[0]);
}

/**
 * Checks the whole chain: 3x3 kernels, each conv's input width equal to the previous
 * output (3 for the first), bias lengths, and one non-negative head weight per channel.
 * `where` names the source in the error messages.
 */
export function validateWeights(w: LpipsVggWeights, where: string): void {
  if (w.convs.length !== VGG16_CONVS.length) {
    throw new PerceptualError(`${where}: expected ${VGG16_CONVS.length} VGG16 convolutions, found ${w.convs.length}`);
  }
  let cin = 3;
  w.convs.forEach((c, i) => {
    const name = `features.${VGG16_CONVS[i]!.index}`;
    const [o, ci, kh, kw] = c.shape;
    if (kh !== 3 || kw !== 3 || ci !== cin || !(o > 0)) {
      throw new PerceptualError(`${where}: ${name}.weight has shape [${c.shape}], expected [C_out, ${cin}, 3, 3] (VGG16 conv3x3 after ${cin} channels)`);
    }
    if (c.weight.length !== o * ci * 9) throw new PerceptualError(`${where}: ${name}.weight has ${c.weight.length} values for shape [${c.shape}]`);
    if (c.bias.length !== o) throw new PerceptualError(`${where}: ${name}.bias has ${c.bias.length} values, expected ${o}`);
    cin = o;
  });
  const widths = tapWidths(w);
  if (w.lins.length !== widths.length) throw new PerceptualError(`${where}: expected ${widths.length} LPIPS heads (lin0..lin4), found ${w.lins.length}`);
  w.lins.forEach((l, k) => {
    if (l.length !== widths[k]) {
      throw new PerceptualError(`${where}: lin${k} has ${l.length} weights, but VGG16 layer ${k + 1} has ${widths[k]} channels: the heads do not belong to this network`);
    }
    for (const v of l) {
      if (!Number.isFinite(v) || v < 0) throw new PerceptualError(`${where}: lin${k} has a negative or non-finite weight (${v}); LPIPS heads are non-negative`);
    }
  });
  for (const [i, c] of w.convs.entries()) {
    for (const arr of [c.weight, c.bias]) {
      for (const v of arr) if (!Number.isFinite(v)) throw new PerceptualError(`${where}: features.${VGG16_CONVS[i]!.index} holds a non-finite value`);
    }
  }
}
