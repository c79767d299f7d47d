// What a fine-tune will cost, measured rather than guessed: the training graph runTune builds
// for this project, timed for real steps on this machine and runtime, and one full-resolution
// render (tuning renders every encoded frame twice, before and after, to measure PSNR).
import { PARAM_COUNT } from '../model/basis';
import { StyleGan2 } from '../model/stylegan2';
import { findPerceptualBundle } from '../perceptual/find';
import { FrameRenderer } from '../render/render';
import { throwIfAborted } from '../util/cancel';
import { largestRank } from './delta';
import { tuneLossGraph } from './graph';
import { DEFAULT_TUNE, checkTuneInput, framesPerStep, localityPerStep, projectLossWeights, type TuneOptions, type TuneSettings } from './tune';

export interface TuneEstimate {
  /** Seconds of one training step: forward and gradient of framesPerStep frames and localityPerStep latents. */
  secondsPerStep: number;
  /** Seconds of one full-resolution render of one frame. */
  secondsPerRender: number;
  framesPerStep: number;
  localityPerStep: number;
  encoded: number;
  tuned: number;
  heldOut: number;
  deltaBytes: number;
  /** The highest rank (up to maxRankAsked) whose delta fits 5% of the synthesis weights. */
  maxRank: number;
}

/** Timed steps after the warm-up one (which builds the session). */
const TIMED_STEPS = 2;

/**
 * Times the project's tuning step at these settings. Checks the input as runTune does, so a
 * project that cannot be tuned fails here with the same one-line TuneError.
 */
export async function estimateTune(o: TuneOptions & { maxRankAsked: number }): Promise<TuneEstimate> {
  const s: TuneSettings = { ...DEFAULT_TUNE, ...o.settings };
  const { project, bundle, rt } = o;
  const { layout, tuned, heldOut } = await checkTuneInput(project, bundle, s);
  const perceptual = o.perceptual === undefined ? findPerceptualBundle(bundle.dir) : o.perceptual;
  const net = new StyleGan2(bundle);
  const F = framesPerStep(s, tuned.length);
  const K = localityPerStep(s);
  const R = net.arch.resolution;
  const graph = tuneLossGraph(net, layout, { frames: F, locality: K, localityWeight: s.localityWeight, weights: projectLossWeights(project) }, perceptual?.net ?? null);
  // The cost of a step does not depend on the values: styles of 1 (the mean), zero targets.
  const feed = {
    delta: { data: new Float32Array(layout.size), dims: [layout.size] },
    s: { data: new Float32Array((F + K) * net.styleDim).fill(1), dims: [F + K, net.styleDim] },
    target: { data: new Float32Array(F * 3 * R * R), dims: [F, 3, R, R] },
    ...(K ? { locTarget: { data: new Float32Array(K * 3 * R * R), dims: [K, 3, R, R] } } : {})
  };
  await rt.run(graph, feed);
  let t0 = performance.now();
  for (let i = 0; i < TIMED_STEPS; i++) {
    throwIfAborted(o.signal);
    await rt.run(graph, feed);
  }
  const secondsPerStep = (performance.now() - t0) / 1000 / TIMED_STEPS;

  const renderer = new FrameRenderer(bundle, o.basis, rt);
  const params = project.params.slice(0, PARAM_COUNT);
  await renderer.render(project.wid, params, R);
  t0 = performance.now();
  await renderer.render(project.wid, params, R);
  const secondsPerRender = (performance.now() - t0) / 1000;

  return {
    secondsPerStep,
    secondsPerRender,
    framesPerStep: F,
    localityPerStep: K,
    encoded: project.doc.encoding.encodedThrough,
    tuned: tuned.length,
    heldOut: heldOut.length,
    deltaBytes: 2 * layout.size,
    maxRank: largestRank(bundle.manifest.architecture, o.maxRankAsked)
  };
}
