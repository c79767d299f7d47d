// The decoder of METHOD.md as graphs:
//   w_t = w_ID + yaw*d_yaw + pitch*d_pitch + roll*d_roll
//   s_t = A(w_t) + sum_k a_k * sigma_k * e_k
//   x_t = g(s_t)
// plus the "loss and gradient" graphs the encoder optimises with.
import { gradients } from '../graph/autodiff';
import { Graph, Value } from '../graph/graph';
import { SerializedModel, serialize } from '../graph/serialize';
import { ATTRIBUTE_COUNT, EditBasis, PARAM_COUNT, attributeUnit } from '../model/basis';
import { StyleGan2 } from '../model/stylegan2';
import type { LpipsVgg } from '../perceptual/lpips';
import { LossWeights, faceWeightMap, frameLoss, lossKey } from './losses';

export class ParamDecoder {
  private readonly cache = new Map<string, SerializedModel>();
  readonly numWs: number;
  readonly wDim: number;
  readonly res: number;

  /** `perceptual`: LPIPS-VGG for the losses; null keeps the MS-SSIM proxy. */
  constructor(readonly net: StyleGan2, readonly basis: EditBasis, readonly perceptual: LpipsVgg | null = null) {
    this.numWs = net.numWs;
    this.wDim = net.arch.wDim;
    this.res = net.arch.resolution;
  }

  private attributeMatrix(): Float32Array {
    const S = this.net.styleDim;
    const e = new Float32Array(ATTRIBUTE_COUNT * S);
    this.basis.meta.attributes.forEach((a, k) => (e[k * S + a.sIndex] = attributeUnit(a)));
    return e;
  }

  /** params [B, 35] and wid [1, numWs, wDim] -> image [B, 3, R', R'] (R' = maxResolution or full). */
  image(g: Graph, wid: Value, params: Value, maxResolution?: number, opts: { preview?: boolean } = {}): Value {
    return this.net.synthesis(g, this.styleCodes(g, wid, params), { ...(maxResolution ? { maxResolution } : {}), ...(opts.preview ? { winograd: true } : {}) });
  }

  /** params [B, 35] and wid [1, numWs, wDim] -> the StyleSpace codes s_t [B, styleDim] that synthesis renders. */
  styleCodes(g: Graph, wid: Value, params: Value): Value {
    const b = params.shape[0] as number;
    const LD = this.numWs * this.wDim;
    const pose = g.slice(params, [1], [0], [3]);
    const attrs = g.slice(params, [1], [3], [PARAM_COUNT]);
    const P = g.weight('basis.pose', this.basis.pose, [3, LD]);
    const w = g.reshape(g.add(g.reshape(wid, [1, LD]), g.matmul(pose, P)), [b, this.numWs, this.wDim]);
    const E = g.weight('basis.attributes', this.attributeMatrix(), [ATTRIBUTE_COUNT, this.net.styleDim]);
    return g.add(this.net.styles(g, w), g.matmul(attrs, E));
  }

  private cached(key: string, build: () => SerializedModel): SerializedModel {
    let m = this.cache.get(key);
    if (!m) {
      m = build();
      this.cache.set(key, m);
    }
    return m;
  }

  /**
   * Forward render: inputs wid [1, L, D], params [B, 35]; output image [B, 3, r, r] (r = size, the
   * skip image of that block). `preview`: the editor's moving preview, whose big convs run as
   * Winograd (equal to the direct form to about 1e-5 of each layer's scale, not bit for bit).
   */
  renderGraph(batch: number, size = this.res, opts: { preview?: boolean } = {}): SerializedModel {
    const preview = opts.preview === true;
    return this.cached(`render:${batch}:${size}:${preview}`, () => {
      const g = new Graph();
      const wid = g.input('wid', [1, this.numWs, this.wDim]);
      const params = g.input('params', [batch, PARAM_COUNT]);
      return serialize(g, [{ name: 'image', value: this.image(g, wid, params, this.truncation(size), { preview }) }], { graphName: preview ? 'preview' : 'decode' });
    });
  }

  /** maxResolution for a render of side `size` (undefined: the full synthesis). */
  private truncation(size: number): number | undefined {
    if (size === this.res) return undefined;
    if (!(size >= 4 && size < this.res) || (size & (size - 1)) !== 0) throw new Error(`render size ${size} is not a power of two below ${this.res}`);
    return size;
  }

  /**
   * Loss and gradient with respect to the 35 parameters of each frame.
   * Inputs: wid, params [B, 35], target [B, 3, r, r] (r = size: the resolution, or a smaller
   * power of two for a truncated synthesis). Outputs: loss [B] (per frame) and grad [B, 35].
   */
  paramLossGraph(batch: number, weights: LossWeights, size = this.res): SerializedModel {
    return this.cached(`params:${batch}:${size}:${lossKey(weights, this.perceptual)}`, () => {
      const g = new Graph();
      const r = size;
      const wid = g.input('wid', [1, this.numWs, this.wDim]);
      const params = g.input('params', [batch, PARAM_COUNT]);
      const target = g.input('target', [batch, 3, r, r]);
      const img = this.image(g, wid, params, this.truncation(r));
      const weight = g.constant(faceWeightMap(r), [1, 1, r, r]);
      const perFrame = frameLoss(g, img, target, weight, weights, this.perceptual);
      const [grad] = gradients(g, g.sumAll(perFrame), [params]);
      return serialize(g, [{ name: 'loss', value: perFrame }, { name: 'grad', value: grad! }], { graphName: 'param-loss' });
    });
  }

  /**
   * Loss and gradients with respect to both the identity latent and each frame's
   * parameters (identity refinement over several frames). Outputs loss [B],
   * grad [B, 35] and gradWid [1, L, D] (summed over the frames). Renders at `size`.
   */
  jointLossGraph(batch: number, weights: LossWeights, size = this.res): SerializedModel {
    return this.cached(`joint:${batch}:${size}:${lossKey(weights, this.perceptual)}`, () => {
      const g = new Graph();
      const wid = g.input('wid', [1, this.numWs, this.wDim]);
      const params = g.input('params', [batch, PARAM_COUNT]);
      const target = g.input('target', [batch, 3, size, size]);
      const img = this.image(g, wid, params, this.truncation(size));
      const weight = g.constant(faceWeightMap(size), [1, 1, size, size]);
      const perFrame = frameLoss(g, img, target, weight, weights, this.perceptual);
      const [grad, gradWid] = gradients(g, g.sumAll(perFrame), [params, wid]);
      return serialize(
        g,
        [
          { name: 'loss', value: perFrame },
          { name: 'grad', value: grad! },
          { name: 'gradWid', value: gradWid! }
        ],
        { graphName: 'joint-loss' }
      );
    });
  }

  /**
   * The loss of images given as such, and its gradient with respect to them: inputs image and
   * target [B, 3, size, size]; outputs loss [B] and grad [B, 3, size, size]. No generator: what
   * the loss's curvature in image space is measured with (optimize.ts, frameCurvature).
   */
  imageLossGraph(batch: number, weights: LossWeights, size = this.res): SerializedModel {
    return this.cached(`image-loss:${batch}:${size}:${lossKey(weights, this.perceptual)}`, () => {
      const g = new Graph();
      const image = g.input('image', [batch, 3, size, size]);
      const target = g.input('target', [batch, 3, size, size]);
      const weight = g.constant(faceWeightMap(size), [1, 1, size, size]);
      const perFrame = frameLoss(g, image, target, weight, weights, this.perceptual);
      const [grad] = gradients(g, g.sumAll(perFrame), [image]);
      return serialize(g, [{ name: 'loss', value: perFrame }, { name: 'grad', value: grad! }], { graphName: 'image-loss' });
    });
  }

  /** Loss and gradient with respect to W+ directly (identity inversion): inputs wplus [K, L, D], target [K, 3, size, size]. */
  inversionGraph(batch: number, weights: LossWeights, size = this.res): SerializedModel {
    return this.cached(`invert:${batch}:${size}:${lossKey(weights, this.perceptual)}`, () => {
      const g = new Graph();
      const wplus = g.input('wplus', [batch, this.numWs, this.wDim]);
      const target = g.input('target', [batch, 3, size, size]);
      const t = this.truncation(size);
      const img = this.net.render(g, wplus, t ? { maxResolution: t } : {});
      const weight = g.constant(faceWeightMap(size), [1, 1, size, size]);
      const perFrame = frameLoss(g, img, target, weight, weights, this.perceptual);
      const [grad] = gradients(g, g.sumAll(perFrame), [wplus]);
      return serialize(g, [{ name: 'loss', value: perFrame }, { name: 'grad', value: grad! }], { graphName: 'invert' });
    });
  }
}
