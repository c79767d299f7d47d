// Every contract method on top of src/core, with no Electron import: Electron
// main (handlers.ts) and the browser-test bridge (test/e2e) both build their
// handlers here and inject what differs (dialogs, the shell, where events go,
// how job processes start, where media is served). Requests arrive validated
// by the contract; this module checks what only it can: that paths are ones
// the user opened or chose (grants.ts), and that files are what they claim.
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { warpToCrop } from '../core/face/warp';
import { drivenParams, lockMask } from '../core/render/puppeteer';
import { locateModel, MAX_START_SEC, openProject, PROJECT_FILE, resolveSourcePath, sourceFrameOf, sourceDecoding, frameTransform, type Project, type TuneRecord } from '../core/project';
import type { ModelBundle } from '../core/model/bundle';
import { TUNE_CHECKPOINT } from '../core/tune/tune';
import { hasIdentityProgress } from '../core/encode/identity-progress';
import { describeWriter, projectWriter } from '../core/project/lock';
import { CONFORM_EXTENSIONS, browserClockStart, decodeFrames, pictureNote, probeVideo, sourceStartOf, timingWarning } from '../core/video';
import type { Catalog } from '../core/model/manager';
import {
  CHECKPOINT_EXTENSIONS,
  MAX_TUNE_RANK,
  PARAM_COUNT,
  fileExtension,
  fileName,
  PROJECT_EXTENSION,
  THUMBNAIL_SIZE,
  VIDEO_EXTENSIONS,
  validateEvent,
  isVideoPath,
  type EditState,
  type EventName,
  type EventPayload,
  type ModelInfo,
  type ProjectSummary,
  type RecentProject,
  type TuneEstimate
} from '../shared/contract';
import { classifyPath } from '../shared/paths';
import { EXPORT_ENCODING, exportExtensionOk } from './export-settings';
import { parseEdits, readEdits, timelineFrames, writeEdits } from './edits';
import { Engine, pickRenderSize } from './engine';
import { PathGrants, PathNotAllowedError, isInsideReal, projectBesideVideo, realPathOf } from './grants';
import type { Handlers } from './ipc';
import { JobManager, type JobTransport } from './jobs/manager';
import { MediaRegistry } from './media';
import { ModelJobs } from './model-jobs';
import { evaluationPlot } from './evaluation';
import { scanModelsDir } from './models';
import { pngDataUrl } from './png';
import { recentKind, type StoredRecent } from './recent';
import { projectTracks, type Tracks } from './tracks';
import { rescaleAffine, type FrameRenderer } from '../core/render/render';
import { TuneError, largestRank } from '../core/tune/delta';
import { loadDelta, projectRenderer } from '../core/tune/store';

export interface DialogHost<E> {
  openVideo(event: E): Promise<string | null>;
  /** A folder picker: projects are NAME.stylecast folders. */
  openProject(event: E): Promise<string | null>;
  openImage(event: E): Promise<string | null>;
  save(event: E, kind: 'video' | 'project' | 'copy', defaultPath: string): Promise<string | null>;
  /** A StyleGAN2 checkpoint (.pkl/.pt/.pth) to import into the models folder. */
  openCheckpoint(event: E): Promise<string | null>;
  /**
   * Asks the user a yes/no question in a native dialog shown by main, never by the page:
   * what the renderer asks for (removing a model, writing beside a dropped file) is done
   * only when this answers true.
   */
  confirm(event: E, question: ConfirmQuestion): Promise<boolean>;
}

export interface ConfirmQuestion {
  message: string;
  detail: string;
  /** The label of the button that agrees ("Remove", "Allow"). */
  confirm: string;
}

export interface RecentStore {
  list(): StoredRecent[];
  add(path: string): StoredRecent[];
}

export interface CoreHost<E> {
  version: string;
  modelsDir: string;
  /** Delivers an event to the page (the payload is validated already). */
  send(name: EventName, payload: unknown): void;
  dialogs: DialogHost<E>;
  showItem(path: string): Promise<void> | void;
  /** The URL the page loads a granted media file from, by its token (media.ts serves it). */
  mediaUrl(token: string): string;
  recent: RecentStore;
  setUnsavedChanges(unsaved: boolean, event: E): void;
  /** The editor's undo and redo labels for the Edit menu (the Electron host only). */
  setEditState?(state: EditState | null, event: E): void;
  jobTransport: JobTransport;
  /** The model catalogue (default: resources/models.catalog.json; tests pass their own). */
  catalog?: () => Catalog;
  /**
   * The proxy URL for a download URL, or null for a direct connection. The app passes the
   * system's (Electron's session.resolveProxy); without it HTTPS_PROXY / NO_PROXY apply.
   */
  resolveProxy?: (url: string) => Promise<string | null>;
}

export interface CoreApi<E> {
  handlers: Handlers<E>;
  jobs: JobManager;
  /** Model imports and downloads (in this process). */
  modelJobs: ModelJobs;
  grants: PathGrants;
  media: MediaRegistry;
  engine: Engine;
  /** Cancels the jobs (waiting for them) and frees the engine. */
  dispose(): Promise<void>;
}

interface OpenProject {
  project: Project;
  tracks: Tracks;
  /** The bundle folder it was encoded with, when installed here. */
  modelDir: string | null;
  /** The renderer with the project's fine-tuning delta, made on first use (tuned projects only). */
  tuned?: Promise<FrameRenderer>;
  /** Why the project's delta cannot be used (missing or damaged, a TuneError's message); null when it is fine or there is none. */
  deltaProblem: string | null;
  /** The user agreed to render untuned although the project is tuned (its delta is damaged or missing). */
  ignoreDelta: boolean;
  /** The source video's real path once checked and granted; null when missing or not trusted. */
  source: string | null;
  /** What was not trusted, for the user (ProjectSummary.notices). */
  notices: string[];
}

/** Source frames kept decoded for render:source (scrubbing back and forth). */
const SOURCE_CACHE = 48;

/** A message that starts lower-case (a TuneError's), as the first sentence of a dialog. */
const asSentence = (m: string): string => m.charAt(0).toUpperCase() + m.slice(1);

const isDirectory = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

export function createCoreApi<E>(host: CoreHost<E>): CoreApi<E> {
  const grants = new PathGrants();
  const media = new MediaRegistry();
  const engine = new Engine();
  const emit = <N extends EventName>(name: N, payload: EventPayload<N>): void => {
    let valid: unknown;
    try {
      valid = validateEvent(name, payload);
    } catch (e) {
      // A bug on our side: report it rather than send the page something off-contract.
      console.error(`Stylecast: dropped an invalid ${name} event: ${(e as Error).message}`);
      return;
    }
    host.send(name, valid);
  };
  const jobs = new JobManager(host.jobTransport, emit);
  const projects = new Map<string, Promise<OpenProject>>();
  const sourceCrops = new Map<string, { data: Uint8Array; n: number }>();
  const portraits = new Map<string, Float32Array>();
  /** Timed tuning steps per project, frame count and rank (the machine does not change while the app runs). */
  const estimates = new Map<string, Promise<TuneEstimate>>();

  const modelsDir = resolve(host.modelsDir);
  const modelJobs = new ModelJobs(modelsDir, emit, host.catalog, (spec, signal) => jobs.run(spec, signal));
  const isCheckpoint = (p: string) => (CHECKPOINT_EXTENSIONS as readonly string[]).includes(fileExtension(p));

  /** Only bundles whose real path lies inside the models folder are ever written (calibrated). */
  const modelWritable = (dir: string): boolean => isInsideReal(dir, modelsDir);

  /** A model folder the app may load: one in the models folder, or the one an opened project uses. */
  const checkModel = async (path: string): Promise<string> => {
    const p = resolve(path);
    const projectModels = await Promise.all([...projects.values()].map((o) => o.then((x) => x.modelDir, () => null)));
    const known = grants.key(dirname(realPathOf(p))) === grants.key(modelsDir) || projectModels.includes(p);
    if (!known && !grants.canRead(p)) throw new PathNotAllowedError(`Stylecast loads models from ${modelsDir} only: ${p} is not there. Copy the bundle into that folder.`);
    if (!existsSync(join(p, 'manifest.json'))) throw new Error(`${p} is not a model bundle (it has no manifest.json).`);
    return p;
  };

  /**
   * The project's source video, granted only when it is a video: a source outside the
   * project's real folder (an absolute path, a ../ relative path, a link) must also probe
   * as a video. Anything else is reported as needing to be located, and never read.
   */
  const checkSource = async (project: Project, dropped: boolean, notices: string[]): Promise<string | null> => {
    const found = await resolveSourcePath(project);
    if (!found) return null;
    const real = realPathOf(found);
    const named = found === real ? found : `${found} (a link to ${real})`;
    const refuse = (why: string): null => {
      notices.push(`The source video ${named} that ${project.dir} names ${why}, so Stylecast does not read it. Locate the source video: open the real video and encode it again, or keep editing without paste-back and audio.`);
      return null;
    };
    if (!isVideoPath(real)) return refuse(`is not a video file (${VIDEO_EXTENSIONS.join(', ')})`);
    if (!isInsideReal(real, project.dir)) {
      const info = await probeVideo(real).catch((e: Error) => e);
      if (info instanceof Error) return refuse(`lies outside the project and could not be read as a video (${info.message.split('\n')[0]})`);
      if (!(info.width > 0 && info.height > 0)) return refuse('lies outside the project and has no video stream');
    }
    // Named by the project, not chosen by the user: readable, but no ground for writes or the recent list.
    if (dropped) grants.allowDropped(real, 'video');
    else grants.allowDerivedRead(real);
    return real;
  };

  /** Checks a tuned project's delta against its record and the model, as rendering will. */
  const deltaProblemOf = async (project: Project, bundle: ModelBundle): Promise<string | null> => {
    try {
      await loadDelta(project, bundle);
      return null;
    } catch (e) {
      if (e instanceof TuneError) return e.message;
      throw e;
    }
  };

  const loadOpenProject = async (path: string): Promise<OpenProject> => {
    // A folder a job is writing is read as committed: its temporary files are the job's, not a crash's.
    const project = await openProject(path, { recover: writer(path) === null });
    const notices: string[] = [];
    let modelDir: string | null = null;
    try {
      modelDir = await locateModel(project, [modelsDir]);
    } catch {
      modelDir = null;
    }
    if (modelDir && !modelWritable(modelDir)) {
      notices.push(`${project.dir} uses the model bundle ${modelDir}, which is outside the models folder ${modelsDir}. Stylecast reads it but never writes to it (it cannot be calibrated there). To keep using it, import it in the Model Manager or copy the folder into ${modelsDir}.`);
    }
    const model = modelDir ? await engine.model(modelDir).catch(() => null) : null;
    const tracks = projectTracks(project, model?.basis ?? null);
    const source = await checkSource(project, grants.isDroppedOnly(path), notices);
    return { project, tracks, modelDir, source, notices, deltaProblem: model ? await deltaProblemOf(project, model.bundle) : null, ignoreDelta: false };
  };

  /** A project a job is writing (an encode or a tune) changes under any job that would read it. */
  /** Why `dir` must not be written or read as settled now: a job of this app writes it, or another process (lock.ts). */
  const writer = (dir: string): string | null => {
    if (jobs.isWriting(dir)) return 'another job (an encode or a tune)';
    const other = projectWriter(dir);
    return other ? `another Stylecast (${describeWriter(other)})` : null;
  };

  const notBeingWritten = (o: OpenProject, what: string): void => {
    const w = writer(o.project.dir);
    if (w) throw new Error(`${o.project.dir} is being written by ${w}: ${what} once that job ends.`);
  };

  /** The open project at `path` (opened now when main does not hold it yet). */
  const opened = (path: string): Promise<OpenProject> => {
    const p = grants.checkProject(path);
    let o = projects.get(p);
    if (!o) {
      o = loadOpenProject(p);
      o.catch(() => projects.delete(p));
      projects.set(p, o);
    }
    return o;
  };

  /** The project's renderer: with its delta, unless it is untuned, `untuned` asks for the network without it, or the user chose to ignore a bad delta. */
  const rendererFor = async (o: OpenProject, untuned = false) => {
    if (!o.modelDir) {
      const m = o.project.doc.model;
      throw new Error(`The model "${m.name}" (id ${m.id}) that ${o.project.dir} was encoded with is not installed: put its bundle in ${modelsDir}.`);
    }
    const r = await engine.renderer(o.modelDir);
    if (!o.project.doc.tune || untuned || o.ignoreDelta) return r;
    // The delta belongs to this project: its renderer is kept with it, the model's stays shared.
    o.tuned ??= projectRenderer(o.project, r.bundle, r.basis, await engine.rt()).then((t) => t.renderer);
    o.tuned.catch(() => (o.tuned = undefined));
    return { ...r, renderer: await o.tuned };
  };

  /** The model a project is tuned with, refusing a rank whose delta would not fit the budget. */
  const tunableModel = async (o: OpenProject, rank: number): Promise<string> => {
    const { bundle } = await rendererFor(o, true);
    const most = largestRank(bundle.manifest.architecture, MAX_TUNE_RANK);
    if (rank > most) throw new Error(`Rank ${rank} is too high for ${bundle.manifest.name}: its delta would take more than 5% of the synthesis weights. Choose ${most} or less.`);
    return o.modelDir!;
  };

  const checkFrame = (o: OpenProject, frame: number, encoded: boolean): void => {
    const enc = o.project.doc.encoding;
    const limit = encoded ? enc.encodedThrough : enc.frames.count;
    if (frame >= limit) {
      throw new Error(`Frame ${frame} is outside ${o.project.dir}: it has ${limit} ${encoded ? 'encoded ' : ''}frames (0 to ${limit - 1}).`);
    }
  };

  const portraitKey = async (path: string, modelId: string) => {
    const s = await stat(path);
    return `${resolve(path)}:${s.size}:${s.mtimeMs}:${modelId}`;
  };

  /** The W+ identity of a portrait for a model, inverted once in a job process and cached. */
  const portraitWid = async (path: string, modelDir: string, modelId: string): Promise<Float32Array> => {
    const key = await portraitKey(path, modelId);
    const cached = portraits.get(key);
    if (cached) return cached;
    const end = await jobs.run({ kind: 'invert-portrait', path, model: modelDir, modelWritable: modelWritable(modelDir) });
    if (end.status !== 'done' || !end.wid) throw new Error(end.message);
    portraits.set(key, end.wid);
    return end.wid;
  };

  const tuneSummary = (t: TuneRecord, o: OpenProject): NonNullable<ProjectSummary['tune']> => {
    const report = t.report as { psnr?: { before?: { heldOut?: unknown }; after?: { heldOut?: unknown } } } | undefined;
    const before = report?.psnr?.before?.heldOut;
    const after = report?.psnr?.after?.heldOut;
    return {
      file: t.file,
      rank: t.rank,
      deltaBytes: t.bytes,
      psnrHeldOut: typeof before === 'number' && typeof after === 'number' && Number.isFinite(before) && Number.isFinite(after) ? { before, after } : null,
      ignored: o.ignoreDelta ? (o.deltaProblem ?? 'the delta was left out as asked') : null
    };
  };

  const summary = async (o: OpenProject): Promise<ProjectSummary> => {
    const { project, tracks } = o;
    const d = project.doc;
    const through = d.encoding.encodedThrough;
    const { edits, warning } = await readEdits(project);
    const settings = d.encoding.settings as { puppeteer?: { motion?: unknown } };
    return {
      path: project.dir,
      name: project.dir.slice(Math.max(project.dir.lastIndexOf('/'), project.dir.lastIndexOf('\\')) + 1).replace(/\.stylecast$/, ''),
      fps: d.source.fps,
      frameCount: d.encoding.frames.count,
      encodedThrough: through,
      identityFrame: d.encoding.identityFrame,
      model: { id: d.model.id, name: d.model.name, resolution: d.model.resolution, path: o.modelDir },
      source: { path: o.source, width: d.source.width, height: d.source.height, hasAudio: d.source.hasAudio, firstFrame: d.encoding.frames.start, firstFrameAtSec: d.source.hasAudio ? Math.min(MAX_START_SEC, browserClockStart(await sourceStartOf(d.source, o.source))) : 0 },
      paramNames: tracks.names,
      paramGroups: tracks.groups,
      poseUnit: tracks.poseUnit,
      params: Array.from(project.params.subarray(0, through * PARAM_COUNT)),
      loss: Array.from(project.loss.subarray(0, through)),
      edits,
      editsWarning: warning,
      notices: o.notices,
      puppeteeredFrom: typeof settings.puppeteer?.motion === 'string' ? settings.puppeteer.motion : null,
      tune: d.tune ? tuneSummary(d.tune, o) : null,
      tuneCheckpoint: existsSync(join(project.dir, TUNE_CHECKPOINT)),
      identitySearchSaved: d.encoding.identityFrame === null && hasIdentityProgress(project.dir)
    };
  };

  const withMissing = (list: readonly StoredRecent[]): RecentProject[] => list.map((r) => ({ ...r, missing: !existsSync(r.path) }));

  /** Checks what a path the user opened really is, and lets the app read it (read-only when it was only dropped). */
  const grantOpened = async (path: string, dropped = false): Promise<void> => {
    const kind = recentKind(path);
    const info = await stat(path).catch(() => null);
    if (!info) throw new Error(`Cannot open ${path}: it does not exist. It may have been moved, renamed or deleted.`);
    if (kind === 'video') {
      if (!info.isFile()) throw new Error(`Cannot open ${path}: it is a folder, not a video file.`);
      if (dropped) grants.allowDropped(path, 'video');
      else grants.allowRead(path);
    } else if (kind === 'project') {
      if (!info.isDirectory() || !existsSync(join(path, PROJECT_FILE))) {
        throw new Error(`Cannot open ${path}: a Stylecast project is a NAME${PROJECT_EXTENSION} folder holding ${PROJECT_FILE}.`);
      }
      if (dropped) grants.allowDropped(path, 'project');
      else grants.allowProject(path);
    } else {
      throw new Error(`Cannot open ${path}: Stylecast opens videos and ${PROJECT_EXTENSION} projects.`);
    }
  };

  /**
   * A write that involves a dropped path (saving a dropped project's edits, encoding
   * beside a dropped video) first asks the user in main's own dialog; once they agree the
   * drop counts as chosen, and it joins the recent list.
   */
  const confirmDropped = async (path: string, doing: string, event: E): Promise<void> => {
    if (!grants.isDroppedOnly(path)) return;
    const ok = await host.dialogs.confirm(event, {
      message: `Allow Stylecast to ${doing}?`,
      detail: `${path} was dropped on the window. Stylecast reads dropped files but writes beside them only once you confirm.`,
      confirm: 'Allow'
    });
    if (!ok) throw new PathNotAllowedError(`Nothing was written: you did not allow Stylecast to ${doing}.`);
    grants.confirmDropped(path);
    host.recent.add(path);
  };

  const handlers: Handlers<E> = {
    'app:info': async () => ({ version: host.version, modelsDir, device: await engine.detectDevice(), platform: process.platform }),

    'models:list': async () => {
      const { models, skipped } = await scanModelsDir(modelsDir);
      for (const s of skipped) console.warn(`Stylecast: skipped model bundle ${s.path}: ${s.reason}`);
      return models;
    },

    'dialog:openVideo': async (_r, event) => {
      const path = await host.dialogs.openVideo(event);
      if (path) await grantOpened(path);
      return path;
    },

    'dialog:openProject': async (_r, event) => {
      const path = await host.dialogs.openProject(event);
      if (!path) return null;
      if (extname(path).toLowerCase() !== PROJECT_EXTENSION) {
        // The user may pick the folder that holds projects; name the one they meant if there is exactly one.
        const inside = (await readdir(path).catch(() => [] as string[])).filter((n) => n.toLowerCase().endsWith(PROJECT_EXTENSION));
        const hint = inside.length ? ` It holds ${inside.slice(0, 3).join(', ')}${inside.length > 3 ? ', …' : ''}: choose one of those.` : '';
        throw new Error(`${path} is not a Stylecast project: a project is a folder named NAME${PROJECT_EXTENSION}.${hint}`);
      }
      await grantOpened(path);
      return path;
    },

    'dialog:openImage': async (_r, event) => {
      const path = await host.dialogs.openImage(event);
      if (!path) return null;
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) throw new Error(`Cannot use ${path}: it is not an image file.`);
      grants.allowRead(path);
      return path;
    },

    'dialog:save': async ({ kind, defaultPath }, event) => {
      const chosen = await host.dialogs.save(event, kind, defaultPath);
      if (!chosen) return null;
      let path = resolve(chosen);
      if (kind === 'project' && extname(path).toLowerCase() !== PROJECT_EXTENSION) path += PROJECT_EXTENSION;
      if (kind !== 'project' && !exportExtensionOk(path)) {
        // The OS asked about replacing the name the user typed, not this one.
        path += '.mp4';
        if (existsSync(path)) {
          const replace = await host.dialogs.confirm(event, { message: `${fileName(path)} already exists. Replace it?`, detail: `${kind === 'copy' ? 'The copy is written to' : 'Exporting writes'} ${path}.`, confirm: 'Replace' });
          if (!replace) return null;
        }
      }
      // A copy is a video the app writes, like an export.
      grants.allowOutput(path, kind === 'project' ? 'project' : 'video');
      return path;
    },

    'recent:list': () => withMissing(host.recent.list()),

    'recent:add': async ({ path }) => {
      // Only what the user already showed main: opened or written here, or on the stored list
      // (the start screen and the Open Recent menu offer those). A drop comes through
      // file:openDropped first. Any other path the page names is refused, not granted.
      const p = resolve(path);
      const stored = host.recent.list().some((r) => grants.key(r.path) === grants.key(p));
      const known = grants.canRead(p) || grants.isProject(p) || stored;
      if (!known) throw new PathNotAllowedError(`Stylecast opens only files you chose: open ${p} with File > Open or drop it on the window.`);
      // A drop is not a choice main saw: it joins the list only once the user confirms it
      // (confirmDropped), so a page cannot plant a lasting grant through the recent list.
      if (!stored && (grants.isDroppedOnly(p) || grants.isDerivedOnly(p))) return withMissing(host.recent.list());
      await grantOpened(p);
      return withMissing(host.recent.add(p));
    },

    'file:openDropped': async ({ path }) => {
      // A project's project.json opens the project, as it does when chosen in a dialog.
      const target = classifyPath(path);
      if (target.kind === 'unknown') {
        throw new Error(`“${fileName(path)}” is neither a video (${VIDEO_EXTENSIONS.join(', ')}) nor a Stylecast project (a NAME${PROJECT_EXTENSION} folder).`);
      }
      // Read-only: main cannot tell a real drop from a page naming a path (see grants.ts).
      await grantOpened(target.path, true);
      return resolve(target.path);
    },

    'shell:showItem': async ({ path }) => {
      if (!grants.canRead(path) && !grants.isProject(path)) throw new PathNotAllowedError(`Stylecast shows only files it opened or wrote: ${path} is not one.`);
      await host.showItem(resolve(path));
    },

    'models:info': async ({ path }): Promise<ModelInfo> => {
      const dir = await checkModel(path);
      const m = await engine.model(dir);
      const man = m.bundle.manifest;
      const files = await readdir(dir);
      let bytes = 0;
      for (const f of files) bytes += await stat(join(dir, f)).then((s) => (s.isFile() ? s.size : 0), () => 0);
      const res = man.architecture.resolution;
      return {
        id: man.id,
        name: man.name,
        resolution: res,
        path: dir,
        sizes: (await import('../core/render/render')).renderSizes(res),
        calibrated: m.basis !== null,
        poseUnit: m.basis?.meta.poseUnit ?? null,
        poseMethod: m.basis?.meta.poseMethod ?? null,
        regionMethod: m.basis?.meta.regionMethod ?? null,
        attributes: (m.basis?.meta.attributes ?? []).map((a) => ({ name: a.name, group: a.region, sigma: a.sigma, localisation: Math.min(1, Math.max(0, a.localisation)) })),
        bytes
      };
    },

    'video:probe': async ({ path }) => {
      const p = grants.checkRead(path, 'video');
      const info = await probeVideo(p);
      const k = Math.max(info.width, info.height) / THUMBNAIL_SIZE;
      const size = k > 1 ? { width: Math.max(1, Math.round(info.width / k)), height: Math.max(1, Math.round(info.height / k)) } : { width: info.width, height: info.height };
      let poster: string | null = null;
      for await (const f of decodeFrames(p, { count: 1, size, info })) {
        poster = pngDataUrl({ data: f.data, width: f.width, height: f.height });
        break;
      }
      if (!poster) throw new Error(`${p} has no frame that could be decoded.`);
      return { path: p, width: info.width, height: info.height, fps: info.fps, frames: info.frameCount, durationSec: info.durationSec, hasAudio: info.hasAudio, firstFrameAtSec: Math.min(MAX_START_SEC, browserClockStart(info)), poster, timingWarning: timingWarning(info, 'make a constant-rate copy and encode that'), picture: pictureNote(info) };
    },

    'video:conform': async (r) => {
      const video = grants.checkRead(r.video, 'video');
      if (!isVideoPath(video)) throw new Error(`${video} is not a video Stylecast reads.`);
      const out = grants.checkOutput(r.out, 'video');
      if (!CONFORM_EXTENSIONS.some((e) => out.toLowerCase().endsWith(e))) throw new Error(`A constant-rate copy is written as ${CONFORM_EXTENSIONS.join(', ')}: ${out} is none of those.`);
      if (grants.key(out) === grants.key(video)) throw new Error(`${out} is the video itself: choose another file name for the copy.`);
      if (jobs.isWriting(out)) throw new Error(`${out} is being written by another job: wait for it or cancel it.`);
      // Nor over a video something else reads: a running job's, or an open project's source.
      const sources = await Promise.all([...projects.values()].map((o) => o.then((x) => x.source, () => null)));
      if (jobs.isReading(out) || sources.some((s) => s && grants.key(s) === grants.key(out))) throw new Error(`${out} is the source of an open project or a running job: choose another file name for the copy.`);
      return { jobId: jobs.start({ kind: 'conform', video, out }) };
    },

    'media:url': async ({ path }) => {
      const p = grants.checkRead(path, 'video');
      if (!isVideoPath(p)) throw new PathNotAllowedError(`Only videos can be played: ${p} is not one.`);
      return { url: host.mediaUrl(media.tokenFor(p)) };
    },

    'project:open': async ({ path }, event) => {
      const p = grants.checkProject(path);
      if (!(await isDirectory(p))) throw new Error(`${p} is not a project folder: a Stylecast project is a NAME${PROJECT_EXTENSION} folder.`);
      // Always from disk: an encode may have added frames since it was last opened.
      const o = loadOpenProject(p);
      projects.set(p, o);
      o.catch(() => projects.delete(p));
      // A dropped project stays read-only until the user confirms a write (confirmDropped).
      if (!grants.isDroppedOnly(p)) grants.allowProject(p);
      const open = await o;
      if (open.deltaProblem) {
        // Rendering untuned is the user's call, asked in main's own dialog; by default the project stays closed.
        const agreed = await host.dialogs.confirm(event, {
          message: `Render ${fileName(p)} without its fine-tuning?`,
          detail: `${asSentence(open.deltaProblem)}\n\nRender Untuned opens the project with the untuned network: the editor, previews and exports use it and the delta file is left as it is. Cancel leaves the project closed.`,
          confirm: 'Render Untuned'
        });
        if (!agreed) {
          projects.delete(p);
          throw new Error(`${p} was not opened: ${open.deltaProblem} In the studio: open it again and choose Render Untuned, or fine-tune it again.`);
        }
        open.ignoreDelta = true;
      }
      return summary(open);
    },

    'project:evaluation': async ({ project }) => {
      const { project: p } = await opened(project);
      return evaluationPlot({ dir: p.dir, sourcePath: p.doc.source.path, loss: p.loss.subarray(0, p.doc.encoding.encodedThrough) });
    },

    'evaluate:start': async ({ project }, event) => {
      const o = await opened(project);
      const dir = o.project.dir;
      if (o.project.doc.encoding.encodedThrough === 0) throw new Error(`${dir} has no encoded frames yet: finish or resume the encode, then evaluate it.`);
      await rendererFor(o); // names a missing model or a damaged delta now, not inside the job
      if (!o.source) throw new Error(`The source video of ${dir} is not at ${o.project.doc.source.path}, or is not a video Stylecast trusts: locate it to evaluate the project.`);
      const w = writer(dir);
      if (w) throw new Error(`${dir} is being written by ${w}: wait for it or cancel it.`);
      // Writing eval.json into a dropped project waits for the user's yes in main.
      await confirmDropped(dir, `write the evaluation into ${dir}`, event);
      return { jobId: jobs.start({ kind: 'evaluate', project: dir, model: o.modelDir!, modelWritable: modelWritable(o.modelDir!) }) };
    },

    'project:saveEdits': async ({ project, edits }, event) => {
      const o = await opened(project);
      await confirmDropped(o.project.dir, `save edits into ${o.project.dir}`, event);
      await writeEdits(o.project, edits);
    },

    'project:close': ({ project }) => {
      const p = resolve(project);
      projects.delete(p);
      for (const key of [...sourceCrops.keys()]) if (key.startsWith(`${p}\0`)) sourceCrops.delete(key);
    },

    'render:frame': async ({ project, frame, params, size, untuned }) => {
      const t0 = performance.now();
      const o = await opened(project);
      checkFrame(o, frame, false);
      const { renderer } = await rendererFor(o, untuned);
      const n = pickRenderSize(renderer.resolution, size);
      // Below the model's resolution the viewer asks for its moving preview: Winograd convolutions
      // (faster, within about one 8-bit level). At rest it asks for the full, exact frame.
      const [img] = await renderer.render(o.project.wid, Float32Array.from(params), n, 1, { preview: n < renderer.resolution });
      const image = pngDataUrl({ data: img!, width: n, height: n });
      return { image, width: n, height: n, ms: performance.now() - t0 };
    },

    'render:source': async ({ project, frame, size }) => {
      const t0 = performance.now();
      const o = await opened(project);
      checkFrame(o, frame, true);
      const n = Math.min(size ?? o.project.doc.model.resolution, 2048);
      const key = `${o.project.dir}\0${frame}\0${n}`;
      let crop = sourceCrops.get(key);
      if (!crop) {
        const src = o.source;
        if (!src) throw new Error(`The source video of ${o.project.dir} is not at ${o.project.doc.source.path}, or is not a video Stylecast trusts: locate it to see the source.`);
        const index = sourceFrameOf(o.project, frame);
        let data: Uint8Array | null = null;
        // The transform maps a crop at the model's resolution; at another size it is rescaled (the viewer asks for at most 512).
        const res = o.project.doc.model.resolution;
        const a = frameTransform(o.project, frame);
        for await (const f of decodeFrames(src, { start: index, count: 1, ...sourceDecoding(o.project) })) data = warpToCrop(f.data, f.width, f.height, n === res ? a : rescaleAffine(a, res, n), n);
        if (!data) throw new Error(`Frame ${index} of ${src} could not be decoded.`);
        crop = { data, n };
        sourceCrops.set(key, crop);
        if (sourceCrops.size > SOURCE_CACHE) sourceCrops.delete(sourceCrops.keys().next().value!);
      }
      return { image: pngDataUrl({ data: crop.data, width: n, height: n }), width: n, height: n, ms: performance.now() - t0 };
    },

    'encode:start': async (r, event) => {
      const video = grants.checkRead(r.video, 'video');
      if (!isVideoPath(video)) throw new Error(`${video} is not a video Stylecast encodes (mp4, mov, mkv or webm).`);
      const model = await checkModel(r.model);
      // Writing into a dropped project, or beside a dropped video, waits for the user's yes in main.
      if (grants.isProject(r.out)) await confirmDropped(resolve(r.out), `write the encode into ${resolve(r.out)}`, event);
      else if (grants.key(projectBesideVideo(r.video)) === grants.key(r.out)) await confirmDropped(r.video, `create a project beside ${r.video}`, event);
      const out = grants.checkOutput(r.out, 'project', video);
      if (extname(out).toLowerCase() !== PROJECT_EXTENSION) throw new Error(`A project folder's name must end in ${PROJECT_EXTENSION}: ${out} does not.`);
      const w = writer(out);
      if (w) throw new Error(`${out} is being written by ${w}: wait for it or cancel it.`);
      projects.delete(out);
      const jobId = jobs.start({ kind: 'encode', video, model, modelWritable: modelWritable(model), out, start: r.start, count: r.count, quality: r.quality, align: r.align, identityFrame: r.identityFrame });
      // The encode may calibrate the model: load it afresh afterwards.
      void jobs.whenDone(jobId)?.then(() => engine.forget(model));
      grants.allowProject(out);
      return { jobId };
    },

    'export:start': async (r) => {
      const o = await opened(r.project);
      notBeingWritten(o, 'export it');
      const out = grants.checkOutput(r.out, 'video');
      if (!exportExtensionOk(out)) throw new Error(`Export writes .mp4, .m4v, .mov or .mkv files: ${out} is none of those.`);
      if (grants.key(out) === grants.key((await resolveSourcePath(o.project)) ?? '/')) throw new Error(`${out} is the project's source video: choose another file name.`);
      if ((r.pasteBack || r.audio) && !o.source) {
        throw new Error(`The source video of ${o.project.dir} needs locating (see the project's notices), so paste-back and audio are not possible: export without them.`);
      }
      if (jobs.isWriting(out)) throw new Error(`${out} is being written by another job: wait for it or cancel it.`);
      const { bundle } = await rendererFor(o);
      const sizes = (await import('../core/render/render')).renderSizes(bundle.manifest.architecture.resolution);
      if (!sizes.includes(r.size)) throw new Error(`${bundle.manifest.name} renders at ${sizes.join(', ')} pixels, not ${r.size}.`);
      // Parse once here so a bad timeline fails now, not inside the job.
      if (r.edits !== null) parseEdits(r.edits, timelineFrames(o.project), o.project.dir);
      const jobId = jobs.start({
        kind: 'export',
        project: o.project.dir,
        model: o.modelDir!,
        modelWritable: modelWritable(o.modelDir!),
        source: o.source,
        out,
        size: r.size,
        pasteBack: r.pasteBack,
        audio: r.audio,
        ...EXPORT_ENCODING[r.quality],
        edits: r.edits,
        start: r.start,
        count: r.count,
        ignoreDelta: o.ignoreDelta
      });
      return { jobId };
    },

    'tune:estimate': async ({ project, rank }) => {
      const o = await opened(project);
      const model = await tunableModel(o, rank);
      const key = `${o.project.dir}\0${o.project.doc.encoding.encodedThrough}\0${rank}`;
      let e = estimates.get(key);
      if (!e) {
        e = jobs.run({ kind: 'tune-estimate', project: o.project.dir, model, modelWritable: modelWritable(model), rank, maxRankAsked: MAX_TUNE_RANK }).then((end) => {
          if (end.status !== 'done' || !end.estimate) throw new Error(end.message);
          return end.estimate;
        });
        e.catch(() => estimates.delete(key));
        estimates.set(key, e);
      }
      return e;
    },

    'tune:start': async ({ project, steps, rank }, event) => {
      const o = await opened(project);
      const dir = o.project.dir;
      const model = await tunableModel(o, rank);
      await confirmDropped(dir, `fine-tune ${dir} (the delta is stored in the project)`, event);
      const w = writer(dir);
      if (w) throw new Error(`${dir} is being written by ${w}: wait for it or cancel it.`);
      const jobId = jobs.start({ kind: 'tune', project: dir, model, modelWritable: modelWritable(model), steps, rank });
      // The next render reads the project afresh, with its new delta.
      void jobs.whenDone(jobId)?.then(() => projects.delete(dir));
      return { jobId };
    },

    'puppeteer:start': async (r, event) => {
      const motion = await opened(r.motion);
      notBeingWritten(motion, 'use it');
      const { bundle } = await rendererFor(motion);
      const out = grants.checkOutput(r.out, 'project');
      if (extname(out).toLowerCase() !== PROJECT_EXTENSION) throw new Error(`A project folder's name must end in ${PROJECT_EXTENSION}: ${out} does not.`);
      if (existsSync(out)) throw new Error(`${out} already exists: choose a new project name for the puppeteered result.`);
      if (jobs.isWriting(out)) throw new Error(`${out} is being written by another job.`);
      let identity: { kind: 'project'; path: string } | { kind: 'portrait'; path: string; wid: Float32Array | null };
      let ignoreDelta = false;
      if (r.identity.kind === 'project') {
        const id = await opened(r.identity.path);
        notBeingWritten(id, 'use it');
        if (r.tune) throw new Error(`Tune on the portrait applies to a portrait identity; ${id.project.dir} is a project, which brings its own fine-tuning (Fine-tune… in its editor).`);
        if (id.project.doc.model.id !== bundle.manifest.id) throw new Error(`${id.project.dir} was encoded with another model (${id.project.doc.model.name}): both faces must use the same model.`);
        // The delta belongs to the identity: checked afresh (the file may have changed since it
        // was opened), and a bad one is left out only when the user agrees, in main's own dialog.
        const problem = await deltaProblemOf(id.project, bundle);
        if (problem) {
          const agreed = await host.dialogs.confirm(event, {
            message: `Puppeteer ${fileName(id.project.dir)} without its fine-tuning?`,
            detail: `${asSentence(problem)}\n\nContinue Untuned creates ${fileName(out)} with the untuned network: the driven project carries no fine-tuning, and the delta file is left as it is. Cancel creates nothing.`,
            confirm: 'Continue Untuned'
          });
          if (!agreed) throw new Error(`${out} was not created: ${problem} In the studio: start again and choose Continue Untuned, or fine-tune ${id.project.dir} again.`);
          ignoreDelta = true;
        }
        identity = { kind: 'project', path: id.project.dir };
      } else {
        const path = grants.checkRead(r.identity.path, 'portrait');
        identity = { kind: 'portrait', path, wid: portraits.get(await portraitKey(path, bundle.manifest.id)) ?? null };
      }
      const jobId = jobs.start({ kind: 'puppeteer', motion: motion.project.dir, model: motion.modelDir!, modelWritable: modelWritable(motion.modelDir!), identity, mode: r.mode, lock: r.lock, strength: r.strength, out, tune: r.tune, ignoreDelta });
      grants.allowProject(out);
      return { jobId };
    },

    'puppeteer:preview': async (r) => {
      const t0 = performance.now();
      const motion = await opened(r.motion);
      checkFrame(motion, r.frame, true);
      const { bundle, basis, renderer: motionRenderer } = await rendererFor(motion);
      let renderer = motionRenderer;
      let wid: Float32Array;
      let neutral = new Float32Array(PARAM_COUNT);
      if (r.identity.kind === 'project') {
        const id = await opened(r.identity.path);
        if (id.project.doc.model.id !== bundle.manifest.id) throw new Error(`${id.project.dir} was encoded with another model (${id.project.doc.model.name}): both faces must use the same model.`);
        wid = id.project.wid;
        // The delta belongs to the identity; a bad one is left out only after the user's yes at the start.
        renderer = (
          await rendererFor(id).catch((e: unknown) => {
            if (e instanceof TuneError) throw new Error(`${e.message} The preview needs the delta; Create driven project asks whether to go on without it.`);
            throw e;
          })
        ).renderer;
        const ref = id.project.doc.encoding.identityFrame ?? 0;
        if (ref < id.project.doc.encoding.encodedThrough) neutral = id.project.params.slice(ref * PARAM_COUNT, (ref + 1) * PARAM_COUNT);
      } else {
        wid = await portraitWid(grants.checkRead(r.identity.path, 'portrait'), motion.modelDir!, bundle.manifest.id);
      }
      const mp = motion.project;
      const ref = mp.doc.encoding.identityFrame ?? 0;
      // Two rows, the frame and the motion's neutral frame, are all drivenParams reads.
      const rows = new Float32Array(2 * PARAM_COUNT);
      rows.set(mp.params.subarray(r.frame * PARAM_COUNT, (r.frame + 1) * PARAM_COUNT), 0);
      rows.set(mp.params.subarray(ref * PARAM_COUNT, (ref + 1) * PARAM_COUNT), PARAM_COUNT);
      const params = drivenParams(rows, 1, 1, neutral, lockMask(basis, r.lock), { mode: r.mode, only: r.lock, strength: r.strength });
      const n = renderer.resolution;
      const [img] = await renderer.render(wid, params, n, 1);
      return { image: pngDataUrl({ data: img!, width: n, height: n }), width: n, height: n, ms: performance.now() - t0 };
    },

    'models:catalog': () => modelJobs.listCatalog(),

    'dialog:openCheckpoint': async (_r, event) => {
      const path = await host.dialogs.openCheckpoint(event);
      if (!path) return null;
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) throw new Error(`Cannot import ${path}: it is not a file.`);
      if (!isCheckpoint(path)) throw new Error(`Cannot import ${path}: Stylecast imports StyleGAN2 checkpoints (.pkl, .pt or .pth).`);
      grants.allowRead(path);
      return resolve(path);
    },

    'models:import': ({ path }) => {
      const file = grants.checkRead(path, 'checkpoint');
      if (!isCheckpoint(file)) throw new Error(`Cannot import ${file}: Stylecast imports StyleGAN2 checkpoints (.pkl, .pt or .pth).`);
      // Parsing an untrusted checkpoint happens in a heap-limited job process, never in main.
      return { jobId: jobs.start(modelJobs.importSpec(file)) };
    },

    'models:download': async ({ name }, event) => {
      let acceptUnpinned = false;
      if (modelJobs.needsTrust(name)) {
        // No published digest (the FFHQ pickle): the user decides, in main's dialog, to trust the first download.
        acceptUnpinned = await host.dialogs.confirm(event, {
          message: `Download ${name} without a published checksum?`,
          detail: `The publisher gives no SHA-256 for this file, so Stylecast cannot check that what arrives is the genuine model. If you continue, the SHA-256 of this download is recorded and every later download must match it.`,
          confirm: 'Download'
        });
        if (!acceptUnpinned) throw new Error(`${name} was not downloaded: it has no published checksum and you did not accept it on trust. You can also fetch the file yourself and import it.`);
      }
      return { jobId: modelJobs.startDownload(name, { acceptUnpinned, ...(host.resolveProxy ? { proxyFor: host.resolveProxy } : {}) }) };
    },

    'models:remove': async ({ name }, event) => {
      // The page's word is not enough to delete a folder: main asks the user itself.
      const target = modelJobs.checkRemovable(name);
      const ok = await host.dialogs.confirm(event, {
        message: `Remove the model “${name}”?`,
        detail: `${target} and everything in it will be deleted. Projects encoded with it cannot be edited or exported until it is imported again.`,
        confirm: 'Remove'
      });
      if (!ok) return;
      const path = modelJobs.remove(name);
      engine.forget(path);
    },

    'job:cancel': ({ jobId }) => {
      if (modelJobs.cancel(jobId)) return;
      if (!jobs.cancel(jobId)) throw new Error(`No job ${jobId} is running: it may have finished already.`);
    },

    'window:setUnsavedChanges': ({ unsaved }, event) => {
      host.setUnsavedChanges(unsaved, event);
    },

    'menu:setEditState': (state, event) => {
      host.setEditState?.(state, event);
    }
  };

  return {
    handlers,
    jobs,
    modelJobs,
    grants,
    media,
    engine,
    async dispose() {
      await Promise.all([jobs.cancelAll(), modelJobs.cancelAll()]);
      projects.clear();
      await engine.dispose();
    }
  };
}
