// The delta on disk (docs/FORMAT.md, "Fine-tuning delta"): a float16 file named in
// project.json's `tune` record. A new delta goes to a new file name, made durable before
// the document that names it is saved, so a crash leaves either the old delta or the new
// one in force, never a mix; the old file is removed after the save.
import { join } from 'node:path';
import { ModelBundle } from '../model/bundle';
import { FLOAT16_LE, type Project, type TuneRecord, isProjectError, saveProject } from '../project';
import { openNoFollow, removeIfPresent, writeDurable, fsyncDir } from '../project/binary';
import { FrameRenderer } from '../render/render';
import type { EditBasis } from '../model/basis';
import type { Runtime } from '../runtime';
import { DeltaLayout, SynthesisDelta, TuneError, applyDelta, decodeHalf, encodeHalf, planDelta, sha256Hex } from './delta';

/** sha256 of w_ID's float32 bytes: the identity a delta belongs to. */
export function widSha256(wid: Float32Array): string {
  return sha256Hex(new Uint8Array(wid.buffer, wid.byteOffset, wid.byteLength));
}

const IGNORE_HINT = 'Tune the project again (stylecast tune), or render it untuned (--ignore-delta on the command line)';

/**
 * The project's delta, checked against its record and the model: null for an untuned
 * project. A missing, damaged or stale delta is a TuneError naming the file.
 */
export async function loadDelta(project: Project, bundle: ModelBundle): Promise<SynthesisDelta | null> {
  const t = project.doc.tune;
  if (!t) return null;
  const path = join(project.dir, t.file);
  let bytes: Uint8Array;
  try {
    // As every file of a shared project: never through a link, a regular file only, its size
    // checked before it is read.
    const fh = await openNoFollow(path, 'read');
    try {
      const size = (await fh.stat()).size;
      if (size !== t.bytes) throw new TuneError('DELTA_CORRUPT', `the fine-tuning delta ${path} is damaged (${size} bytes, project.json says ${t.bytes}). ${IGNORE_HINT}.`);
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof TuneError) throw err;
    if (isProjectError(err)) throw new TuneError('DELTA_CORRUPT', `the fine-tuning delta: ${err.message} ${IGNORE_HINT}.`);
    const code = (err as NodeJS.ErrnoException).code;
    throw new TuneError('DELTA_MISSING', `the fine-tuning delta ${path} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code})`}. ${IGNORE_HINT}.`);
  }
  if (bytes.byteLength !== t.bytes || sha256Hex(bytes) !== t.sha256) {
    throw new TuneError('DELTA_CORRUPT', `the fine-tuning delta ${path} is damaged (${bytes.byteLength} bytes, its checksum does not match project.json). ${IGNORE_HINT}.`);
  }
  const layout = planDelta(bundle.manifest.architecture, t.rank);
  if (2 * layout.size !== t.bytes) {
    throw new TuneError('DELTA_CORRUPT', `the fine-tuning delta ${path} holds ${t.bytes / 2} values, but a rank-${t.rank} delta of model ${bundle.manifest.name} has ${layout.size}. ${IGNORE_HINT}.`);
  }
  if (t.widSha256 !== widSha256(project.wid)) {
    throw new TuneError('DELTA_CORRUPT', `the fine-tuning delta ${path} was tuned for another identity latent (w_ID changed since). ${IGNORE_HINT}.`);
  }
  const values = decodeHalf(bytes);
  if (values.some((v) => !Number.isFinite(v))) throw new TuneError('DELTA_CORRUPT', `the fine-tuning delta ${path} holds non-finite values. ${IGNORE_HINT}.`);
  return { layout, values };
}

/**
 * Stores `values` (float16-rounded by the caller or here) as the project's delta and saves
 * the project; `extra` (settings, figures) goes into the record verbatim.
 */
export async function storeDelta(project: Project, layout: DeltaLayout, values: Float32Array, extra: Record<string, unknown>): Promise<TuneRecord> {
  const bytes = encodeHalf(values);
  const sha256 = sha256Hex(bytes);
  const file = `delta-${sha256.slice(0, 12)}.f16`;
  await writeDurable(join(project.dir, file), bytes);
  await fsyncDir(project.dir);
  const old = project.doc.tune?.file;
  const record: TuneRecord = { ...extra, file, dtype: FLOAT16_LE, bytes: bytes.byteLength, sha256, rank: layout.rank, widSha256: widSha256(project.wid) };
  const previous = project.doc.tune;
  project.doc.tune = record;
  try {
    await saveProject(project);
  } catch (e) {
    project.doc.tune = previous;
    if (file !== old) await removeIfPresent(join(project.dir, file)).catch(() => undefined);
    throw e;
  }
  if (old && old !== file) await removeIfPresent(join(project.dir, old)).catch(() => undefined);
  return record;
}

/** Copies another project's delta into `project` (puppeteering: the delta belongs to the identity). */
export async function copyDelta(from: Project, to: Project, bundle: ModelBundle): Promise<void> {
  const d = await loadDelta(from, bundle);
  if (!d) return;
  const { file: _f, dtype: _d, bytes: _b, sha256: _s, rank: _r, widSha256: _w, ...extra } = from.doc.tune!;
  await storeDelta(to, d.layout, d.values, { ...extra, copiedFrom: from.dir });
}

export interface ProjectRendering {
  renderer: FrameRenderer;
  /** The delta in force; null when the project is untuned or the delta was ignored. */
  delta: SynthesisDelta | null;
  /** Why the delta is not applied although the project is tuned (ignoreDelta with a bad delta). */
  ignored: string | null;
}

/**
 * The renderer a project renders with: the model, plus the project's delta when it is tuned.
 * A bad delta throws unless `ignoreDelta` (the user agreed to render untuned).
 */
export async function projectRenderer(project: Project, bundle: ModelBundle, basis: EditBasis, rt: Runtime, opts: { ignoreDelta?: boolean } = {}): Promise<ProjectRendering> {
  let delta: SynthesisDelta | null = null;
  let ignored: string | null = null;
  try {
    delta = await loadDelta(project, bundle);
  } catch (e) {
    if (!(e instanceof TuneError) || !opts.ignoreDelta) throw e;
    ignored = e.message;
  }
  if (delta && opts.ignoreDelta) {
    ignored = 'the delta was left out as asked';
    delta = null;
  }
  return { renderer: new FrameRenderer(bundle, basis, rt, delta ? applyDelta(bundle, delta) : undefined), delta, ignored };
}
