// Puppeteering (METHOD.md step 5): identity from one face, motion from another's
// per-frame parameters, absolute or relative to the driving video's neutral frame,
// with region locks and a strength multiplier.
import { alignAffine } from '../face/align';
import type { FaceNetsLike } from '../face/pipeline';
import { warpToCrop } from '../face/warp';
import { ParamDecoder } from '../encode/decoder';
import { Evaluator, invertFrames } from '../encode/optimize';
import { type EncodeSchedule, qualitySchedule } from '../encode/schedule';
import { AttributeChannel, EditBasis, PARAM_COUNT } from '../model/basis';
import { ModelBundle } from '../model/bundle';
import { StyleGan2 } from '../model/stylegan2';
import { Project, createProject } from '../project';
import type { Runtime } from '../runtime';
import { fromRgb8 } from './image';
import { readFrames } from '../video';
import { rm } from 'node:fs/promises';
import type { SynthesisDelta } from '../tune/delta';
import { loadDelta, storeDelta, widSha256 } from '../tune/store';

export type PuppetMode = 'absolute' | 'relative';
export type RegionLock = 'pose' | 'expression' | 'mouth' | 'eyes';

export class PuppeteerError extends Error {
  constructor(
    readonly code: 'MODEL_MISMATCH' | 'NO_FACE' | 'BAD_ARGUMENT',
    message: string
  ) {
    super(message);
  }
}

/** Which of the 35 tracks a lock transfers. Eyes include the brows, which move with them. */
export function lockMask(basis: EditBasis, only: RegionLock | null): boolean[] {
  const attr = (pred: (a: AttributeChannel) => boolean) => basis.meta.attributes.map(pred);
  switch (only) {
    case null:
      return new Array<boolean>(PARAM_COUNT).fill(true);
    case 'pose':
      return [true, true, true, ...attr(() => false)];
    case 'expression':
      return [false, false, false, ...attr(() => true)];
    case 'mouth':
      return [false, false, false, ...attr((a) => a.region === 'mouth')];
    case 'eyes':
      return [false, false, false, ...attr((a) => a.region === 'eyes' || a.region === 'brows')];
  }
}

export interface PuppetOptions {
  mode: PuppetMode;
  only: RegionLock | null;
  strength: number;
  /** Neutral frame of the driving motion (default: its identity frame). */
  neutralFrame?: number;
}

/**
 * The driven parameters, [frames, 35]:
 *   relative: p = p_B(ref) + k * (p_A(t) - p_A(ref))
 *   absolute: p = k * p_A(t)
 * on the tracks the lock transfers; the other tracks keep the identity's neutral values.
 */
export function drivenParams(motion: Float32Array, frames: number, motionNeutral: number, identityNeutral: Float32Array, mask: boolean[], o: PuppetOptions): Float32Array {
  const out = new Float32Array(frames * PARAM_COUNT);
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < PARAM_COUNT; i++) {
      const a = motion[t * PARAM_COUNT + i]!;
      const ref = motion[motionNeutral * PARAM_COUNT + i]!;
      const base = identityNeutral[i]!;
      out[t * PARAM_COUNT + i] = !mask[i] ? base : o.mode === 'relative' ? base + o.strength * (a - ref) : o.strength * a;
    }
  }
  return out;
}

/** The portrait's face, found and aligned as FFHQ: [1, 3, res, res] in -1..1, the crop inversion and tuning fit. */
export async function portraitCrop(path: string, res: number, nets: FaceNetsLike): Promise<Float32Array> {
  const [frame] = await readFrames(path, { count: 1 });
  if (!frame) throw new PuppeteerError('NO_FACE', `could not read an image from ${path}`);
  const boxes = await nets.detect(frame.data, frame.width, frame.height);
  const box = boxes[0];
  if (!box) throw new PuppeteerError('NO_FACE', `no face found in ${path}: use a portrait with one clearly visible face`);
  const lm = await nets.landmarks(frame.data, frame.width, frame.height, box);
  return fromRgb8(warpToCrop(frame.data, frame.width, frame.height, alignAffine(lm, res), res), res, res);
}

/**
 * Inverts a still portrait into W+: detect, align as FFHQ, invert. Only the identity stages
 * run, so the latent renders the portrait with all 35 parameters at zero.
 */
export async function invertPortrait(path: string, bundle: ModelBundle, basis: EditBasis, rt: Runtime, nets: FaceNetsLike, schedule: EncodeSchedule = qualitySchedule('normal'), signal?: AbortSignal): Promise<{ wid: Float32Array; crop: Float32Array }> {
  const dec = new ParamDecoder(new StyleGan2(bundle), basis);
  const crop = await portraitCrop(path, dec.res, nets);
  const ev = new Evaluator(dec, rt, schedule.loss, 1, signal);
  const inv = await invertFrames(ev, schedule.stages.filter((st) => st.phase === 'identity'), crop, 1);
  return { wid: inv.wplus, crop };
}

/** The W+ identity of a still portrait (invertPortrait without the crop). */
export async function identityFromPortrait(path: string, bundle: ModelBundle, basis: EditBasis, rt: Runtime, nets: FaceNetsLike, schedule: EncodeSchedule = qualitySchedule('normal'), signal?: AbortSignal): Promise<Float32Array> {
  return (await invertPortrait(path, bundle, basis, rt, nets, schedule, signal)).wid;
}

/** The delta the driven project gets, with the extra fields of its tune record (copiedFrom, or a portrait's tuning). */
export interface IdentityDelta {
  delta: SynthesisDelta;
  record: Record<string, unknown>;
}

export interface PuppeteerProjectOptions {
  motion: Project;
  /** The identity: another project, or a latent inverted from a portrait. */
  identity: { project: Project } | { wid: Float32Array; label: string; /** Tuned on the portrait; left out: untuned. */ tuned?: IdentityDelta };
  bundle: ModelBundle;
  basis: EditBasis;
  out: string;
  options: PuppetOptions;
  /** Leave out the identity project's fine-tuning delta (also when it is missing or damaged). */
  ignoreDelta?: boolean;
}

export async function puppeteerProject(o: PuppeteerProjectOptions): Promise<Project> {
  const a = o.motion;
  const enc = a.doc.encoding;
  const frames = enc.encodedThrough;
  if (frames !== enc.frames.count) throw new PuppeteerError('BAD_ARGUMENT', `${a.dir} is not fully encoded (${frames} of ${enc.frames.count} frames): finish the encode first`);
  if (a.doc.model.id !== o.bundle.manifest.id) throw new PuppeteerError('MODEL_MISMATCH', `${a.dir} was encoded with another model (${a.doc.model.name})`);
  if (!Number.isFinite(o.options.strength)) throw new PuppeteerError('BAD_ARGUMENT', `strength must be a number, got ${o.options.strength}`);
  const neutral = o.options.neutralFrame ?? enc.identityFrame ?? 0;
  if (neutral < 0 || neutral >= frames) throw new PuppeteerError('BAD_ARGUMENT', `neutral frame ${neutral} is outside 0..${frames - 1}`);
  let wid: Float32Array;
  let identityNeutral = new Float32Array(PARAM_COUNT);
  let identityLabel: string;
  let identityDelta: IdentityDelta | null = null;
  if ('project' in o.identity) {
    const b = o.identity.project;
    if (b.doc.model.id !== o.bundle.manifest.id) throw new PuppeteerError('MODEL_MISMATCH', `${b.dir} was encoded with another model (${b.doc.model.name}); both faces must use the same model`);
    wid = b.wid;
    // The delta belongs to the identity: checked before anything is written, copied after.
    const own = o.ignoreDelta ? null : await loadDelta(b, o.bundle);
    identityDelta = own && { delta: own, record: { copiedFrom: b.dir } };
    const bRef = b.doc.encoding.identityFrame ?? 0;
    if (bRef < b.doc.encoding.encodedThrough) identityNeutral = b.params.slice(bRef * PARAM_COUNT, (bRef + 1) * PARAM_COUNT);
    identityLabel = b.dir;
  } else {
    wid = o.identity.wid;
    identityLabel = o.identity.label;
    identityDelta = o.identity.tuned ?? null;
    // A delta belongs to the latent it was tuned for (project.json records its sha256).
    if (identityDelta && identityDelta.record.widSha256 !== widSha256(wid)) throw new PuppeteerError('BAD_ARGUMENT', `the delta tuned on ${identityLabel} was tuned for another latent than the one given`);
  }
  const params = drivenParams(a.params, frames, neutral, identityNeutral, lockMask(o.basis, o.options.only), o.options);
  const c = await createProject(o.out, {
    source: { ...a.doc.source },
    model: a.doc.model,
    encoding: {
      frames: enc.frames,
      wDim: enc.wDim,
      numWs: enc.numWs,
      paramNames: enc.paramNames,
      // The neutral frame carries the identity's own resting numbers: it is this project's
      // neutral for group strengths in the editor and export, and its reference when it drives
      // or lends its face in turn (null would mean frame 0, and to a resume "no identity yet").
      identityFrame: neutral,
      encodedThrough: frames,
      settings: { puppeteer: { motion: a.dir, identity: identityLabel, mode: o.options.mode, only: o.options.only, strength: o.options.strength, neutralFrame: neutral } }
    },
    wid,
    params,
    transforms: a.transforms,
    loss: new Float32Array(frames),
    basis: { sha256: a.doc.basis.sha256, meta: a.doc.basis.meta }
  });
  if (identityDelta) {
    try {
      await storeDelta(c, identityDelta.delta.layout, identityDelta.delta.values, identityDelta.record);
    } catch (e) {
      await rm(c.dir, { recursive: true, force: true });
      throw e;
    }
  }
  return c;
}
