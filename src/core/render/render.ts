// Rendering an encoding: params -> frames at any resolution the model has, as an
// aligned-crop video or pasted back into the source frames, with the source audio.
import { faceMask } from '../face/mask';
import { pasteBack } from '../face/warp';
import type { Affine } from '../face/types';
import { ParamDecoder } from '../encode/decoder';
import { EditBasis, PARAM_COUNT } from '../model/basis';
import { ModelBundle } from '../model/bundle';
import { StyleGan2 } from '../model/stylegan2';
import { Project, frameTransform, resolveSourcePath, sourceDecoding } from '../project';
import type { Runtime } from '../runtime';
import { throwIfAborted } from '../util/cancel';
import { createVideoWriter, decodeFrames, frameTimeSec, sourceStartOf } from '../video';
import { toRgb8 } from './image';

export class RenderError extends Error {
  constructor(
    readonly code: 'BAD_SIZE' | 'BAD_RANGE' | 'SOURCE_MISSING' | 'NOT_ENCODED',
    message: string
  ) {
    super(message);
  }
}

/** Sizes a model can render: its skip architecture has an image at every power of two from 16 up. */
export function renderSizes(resolution: number): number[] {
  const out: number[] = [];
  for (let r = 16; r <= resolution; r *= 2) out.push(r);
  return out;
}

/** Renders params through the decoder at one of the model's sizes, batched. */
export class FrameRenderer {
  private readonly dec: ParamDecoder;
  /** `tuned`: the bundle with a project's fine-tuning delta merged in (src/core/tune), which then renders instead. */
  constructor(
    readonly bundle: ModelBundle,
    readonly basis: EditBasis,
    readonly rt: Runtime,
    tuned?: ModelBundle
  ) {
    this.dec = new ParamDecoder(new StyleGan2(tuned ?? bundle), basis);
  }

  get resolution(): number {
    return this.dec.res;
  }

  /**
   * params [n, 35] -> n RGB crops of size x size. `preview`: the editor's moving preview, drawn
   * with Winograd convolutions (faster; equal to the exact render within about one 8-bit level).
   */
  async render(wid: Float32Array, params: Float32Array, size = this.dec.res, batch = 4, opts: { preview?: boolean } = {}): Promise<Uint8Array[]> {
    if (!renderSizes(this.dec.res).includes(size)) {
      throw new RenderError('BAD_SIZE', `size ${size} is not one this model renders: choose one of ${renderSizes(this.dec.res).join(', ')}`);
    }
    const n = params.length / PARAM_COUNT;
    const out: Uint8Array[] = [];
    for (let t = 0; t < n; t += batch) {
      const k = Math.min(batch, n - t);
      const p = new Float32Array(batch * PARAM_COUNT);
      p.set(params.subarray(t * PARAM_COUNT, (t + k) * PARAM_COUNT));
      const img = (await this.rt.run(this.dec.renderGraph(batch, size, { preview: opts.preview === true }), {
        wid: { data: wid, dims: [1, this.dec.numWs, this.dec.wDim] },
        params: { data: p, dims: [batch, PARAM_COUNT] }
      })).image!.data;
      for (let j = 0; j < k; j++) out.push(toRgb8(img, j, size, size));
    }
    return out;
  }
}

export interface ExportOptions {
  project: Project;
  renderer: FrameRenderer;
  out: string;
  /** Crop size (crop mode) or the size the face is rendered at before pasting (default: the model's). */
  size?: number;
  pasteBack: boolean;
  /** Keep the source audio (default true). */
  audio?: boolean;
  /**
   * The source video to paste back into and take audio from, as the caller checked it (main
   * grants a project's source only after checking it); resolved from the project when absent.
   */
  source?: string | null;
  crf?: number;
  /** Bit-exact RGB frames (libx264rgb at qp 0) instead of crf: for further editing; few players show it. */
  lossless?: boolean;
  /** Encoded-frame range (default: all encoded frames). */
  frames?: { start: number; count: number };
  /** Parameters to render instead of the project's (edited or puppeteered), [count, 35]. */
  params?: Float32Array;
  wid?: Float32Array;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  path: string;
  frames: number;
  width: number;
  height: number;
  fps: number;
  audio: boolean;
}

export async function exportVideo(o: ExportOptions): Promise<ExportResult> {
  const p = o.project;
  const enc = p.doc.encoding;
  const start = o.frames?.start ?? 0;
  const count = o.frames?.count ?? enc.encodedThrough - start;
  if (start < 0 || count < 1 || start + count > enc.encodedThrough) {
    throw new RenderError(enc.encodedThrough === 0 ? 'NOT_ENCODED' : 'BAD_RANGE', `frames ${start}:${start + count} are not encoded in ${p.dir} (encoded: 0:${enc.encodedThrough}); finish or resume the encode first`);
  }
  const size = o.size ?? o.renderer.resolution;
  const params = o.params ?? p.params;
  const wid = o.wid ?? p.wid;
  const fps = p.doc.source.fps;
  const source = o.source !== undefined ? o.source : await resolveSourcePath(p);
  const withAudio = (o.audio ?? true) && p.doc.source.hasAudio;
  if ((o.pasteBack || withAudio) && !source) {
    throw new RenderError('SOURCE_MISSING', `the source video of ${p.dir} is not at ${p.doc.source.path}: put it back${o.pasteBack ? '' : ', or export without audio'}`);
  }
  const width = o.pasteBack ? p.doc.source.width : size;
  const height = o.pasteBack ? p.doc.source.height : size;
  const writer = await createVideoWriter({
    path: o.out,
    width,
    height,
    fps: p.doc.source.fpsRational || fps,
    crf: o.crf,
    lossless: o.lossless,
    audioFrom: withAudio ? source! : undefined,
    // The sound of the exported frames: from the first one's time in the source, not from its
    // start, and after the sound that plays before the video's first frame.
    audioStartSec: (withAudio ? (await sourceStartOf(p.doc.source, source)).videoStartSec : 0) + frameTimeSec(enc.frames.start + start, p.doc.source.fpsRational, fps),
    signal: o.signal
  });
  const mask = faceMask(size);
  const chunk = 8;
  const frameIter = o.pasteBack ? decodeFrames(source!, { start: enc.frames.start + start, count, ...sourceDecoding(p), signal: o.signal })[Symbol.asyncIterator]() : null;
  try {
    for (let t = start; t < start + count; t += chunk) {
      throwIfAborted(o.signal);
      const k = Math.min(chunk, start + count - t);
      const crops = await o.renderer.render(wid, params.subarray(t * PARAM_COUNT, (t + k) * PARAM_COUNT), size);
      for (let j = 0; j < k; j++) {
        if (!frameIter) {
          await writer.write(crops[j]!);
          continue;
        }
        const f = await frameIter.next();
        if (f.done) throw new RenderError('SOURCE_MISSING', `the source video of ${p.dir} ended before frame ${enc.frames.start + t + j}`);
        const a = frameTransform(p, t + j);
        const scaled: Affine = size === o.renderer.resolution ? a : rescaleAffine(a, o.renderer.resolution, size);
        await writer.write(pasteBack(f.value.data, f.value.width, f.value.height, crops[j]!, size, scaled, mask, { inPlace: true }));
      }
      o.onProgress?.(t + k - start, count);
    }
    if (frameIter) await frameIter.return?.();
    await writer.close();
  } catch (e) {
    // Stop the source's decoder too: after an error that is not a cancel it would run on.
    await frameIter?.return?.().catch(() => undefined);
    await writer.abort();
    throw e;
  }
  return { path: o.out, frames: count, width, height, fps, audio: writer.hasAudio };
}

/** The same crop -> source map for a crop rendered at `to` pixels instead of `from`. */
export function rescaleAffine(a: Affine, from: number, to: number): Affine {
  const k = from / to;
  return [a[0] * k, a[1] * k, a[2], a[3] * k, a[4] * k, a[5]];
}
