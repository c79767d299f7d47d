// The one IPC contract between main and renderer. Preload exposes exactly these
// channels and main registers a handler for each, both generated from the lists
// below; main validates every request (the renderer is untrusted) and every
// response and event it sends (to catch its own bugs at the boundary).
import {
  ContractError,
  expectAbsolutePath,
  expectArray,
  expectBoolean,
  expectFiniteNumber,
  expectIntegerIn,
  expectJson,
  expectNumberArray,
  expectNonEmptyString,
  expectNothing,
  expectNullable,
  expectNumberIn,
  expectObject,
  expectOneOf,
  expectPositiveInteger,
  expectString,
  type Infer,
  type Validator
} from './validate';

export { ContractError } from './validate';

/** Video containers the app opens (lower case, with the dot). */
export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.mkv', '.webm', '.avi'] as const;
/** Project file extension; the project schema itself lives in core/project. */
export const PROJECT_EXTENSION = '.stylecast';
export const MAX_RECENT_PROJECTS = 10;
/** The most frames a project may have (about 1 h 50 min at 30 fps). */
export const MAX_FRAMES = 200_000;
/** The editor's parameters per frame: 3 pose angles and 32 attributes. */
export const PARAM_COUNT = 35;
/** Largest side of the thumbnails sent with events. */
export const THUMBNAIL_SIZE = 160;

const DATA_URL_MAX = 24 * 1024 * 1024;
/** A base64 PNG data URL (what the app sends images as). */
const expectDataUrl: Validator<string> = (v, path) => {
  if (typeof v !== 'string' || !v.startsWith('data:image/png;base64,') || v.length > DATA_URL_MAX) {
    throw new ContractError(`${path} must be a PNG data URL under ${DATA_URL_MAX} characters`);
  }
  return v;
};

/** The last component of a POSIX or Windows path. */
export function fileName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

export function fileExtension(path: string): string {
  const base = fileName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

export function isVideoPath(path: string): boolean {
  return (VIDEO_EXTENSIONS as readonly string[]).includes(fileExtension(path));
}

// ---- payload shapes --------------------------------------------------------

const device = expectOneOf('cpu', 'cuda');

const appInfo = expectObject({
  version: expectNonEmptyString,
  modelsDir: expectString,
  device,
  platform: expectNonEmptyString
});

const modelSummary = expectObject({
  id: expectNonEmptyString,
  name: expectNonEmptyString,
  resolution: expectPositiveInteger,
  /** The bundle folder. */
  path: expectAbsolutePath
});

const recentProject = expectObject({
  path: expectAbsolutePath,
  name: expectNonEmptyString,
  kind: expectOneOf('video', 'project'),
  /** ISO 8601 time it was last opened. */
  openedAt: expectNonEmptyString,
  /** The file was not found when the list was read. */
  missing: expectBoolean
});

const pathRequest = expectObject({ path: expectAbsolutePath });

/** Long jobs the app runs outside the window's thread, one kind per dialog. */
export const JOB_KINDS = ['encode', 'export', 'puppeteer', 'model', 'tune', 'evaluate', 'conform'] as const;
const jobKind = expectOneOf(...JOB_KINDS);

const jobProgress = expectObject({
  jobId: expectNonEmptyString,
  kind: jobKind,
  stage: expectNonEmptyString,
  fraction: expectNumberIn(0, 1),
  /** Seconds left, or null while unknown. */
  etaSec: expectNullable(expectNumberIn(0, Number.MAX_SAFE_INTEGER)),
  message: expectString,
  /** Frame index and count of the stage, when it works frame by frame. */
  frame: expectNullable(expectIntegerIn(0, MAX_FRAMES)),
  of: expectNullable(expectIntegerIn(0, MAX_FRAMES)),
  /** The loss of that frame (encode only). */
  loss: expectNullable(expectFiniteNumber)
});

/** One finished frame of an encode: the aligned source crop beside its re-render. */
const encodeFrame = expectObject({
  jobId: expectNonEmptyString,
  frame: expectIntegerIn(0, MAX_FRAMES),
  loss: expectFiniteNumber,
  /** data:image/png;base64 thumbnails, at most THUMBNAIL_SIZE pixels square. */
  source: expectDataUrl,
  render: expectDataUrl
});

export const JOB_STATUSES = ['done', 'cancelled', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

const jobDone = expectObject({
  jobId: expectNonEmptyString,
  kind: jobKind,
  status: expectOneOf(...JOB_STATUSES),
  /** A one-line result or error for the user. */
  message: expectString,
  /** What the job wrote (project folder or video file), when it wrote something. */
  path: expectNullable(expectAbsolutePath)
});

const jobStarted = expectObject({ jobId: expectNonEmptyString });
const jobRef = expectObject({ jobId: expectNonEmptyString });

export const QUALITIES = ['draft', 'normal', 'best'] as const;
export const ALIGN_MODES = ['auto', 'face', 'none'] as const;
export const PUPPET_MODES = ['relative', 'absolute'] as const;
export const REGION_LOCKS = ['pose', 'expression', 'mouth', 'eyes'] as const;
/** Track groups of the timeline, in display order (pose first, then the calibration regions). */
export const PARAM_GROUPS = ['pose', 'mouth', 'eyes', 'brows', 'nose-forehead-cheeks'] as const;
const paramGroup = expectOneOf(...PARAM_GROUPS);

const attributeInfo = expectObject({
  name: expectNonEmptyString,
  group: paramGroup,
  /** StyleSpace sigma of the channel (one unit of the track). */
  sigma: expectFiniteNumber,
  /** 0..1: the fraction of the image change inside the region. */
  localisation: expectNumberIn(0, 1)
});

const modelInfo = expectObject({
  id: expectNonEmptyString,
  name: expectNonEmptyString,
  resolution: expectPositiveInteger,
  path: expectAbsolutePath,
  /** Render sizes the model offers (powers of two up to its resolution). */
  sizes: expectArray(expectPositiveInteger, 16),
  calibrated: expectBoolean,
  poseUnit: expectNullable(expectOneOf('degree', 'pseudo-degree')),
  poseMethod: expectNullable(expectOneOf('landmark-pnp', 'principal-directions')),
  regionMethod: expectNullable(expectOneOf('landmarks', 'fixed-regions')),
  attributes: expectArray(attributeInfo, PARAM_COUNT),
  /** Bytes on disk of the bundle. */
  bytes: expectIntegerIn(0, Number.MAX_SAFE_INTEGER)
});

const videoInfo = expectObject({
  path: expectAbsolutePath,
  width: expectPositiveInteger,
  height: expectPositiveInteger,
  fps: expectNumberIn(0, 1000),
  frames: expectIntegerIn(0, MAX_FRAMES),
  durationSec: expectNumberIn(0, Number.MAX_SAFE_INTEGER),
  hasAudio: expectBoolean,
  /** When the first frame is shown on a <video> element's clock, in seconds (a video that starts after its sound). */
  firstFrameAtSec: expectNumberIn(0, 86_400),
  /** A data:image/png;base64 poster of the first frame, at most THUMBNAIL_SIZE wide. */
  poster: expectDataUrl,
  /** Why the encode and export cannot keep this video's timing exactly (a variable frame rate), or null. */
  timingWarning: expectNullable(expectString),
  /** How the picture is read where that differs from its stored pixels (turned, non-square pixels, HDR), or null. */
  picture: expectNullable(expectString)
});

/**
 * An opened project, everything the editor needs. `params` is the encoded
 * per-frame parameter sequence flattened row-major as [encodedThrough, 35].
 */
const projectSummary = expectObject({
  path: expectAbsolutePath,
  name: expectNonEmptyString,
  fps: expectNumberIn(0, 1000),
  /** Frames the project covers and how many of them are encoded so far. */
  frameCount: expectIntegerIn(0, MAX_FRAMES),
  encodedThrough: expectIntegerIn(0, MAX_FRAMES),
  identityFrame: expectNullable(expectIntegerIn(0, MAX_FRAMES)),
  model: expectObject({
    id: expectNonEmptyString,
    name: expectNonEmptyString,
    resolution: expectPositiveInteger,
    /** The bundle folder, or null when it is not installed here. */
    path: expectNullable(expectAbsolutePath)
  }),
  source: expectObject({
    /** The source video, or null when it is not where the project says. */
    path: expectNullable(expectAbsolutePath),
    width: expectPositiveInteger,
    height: expectPositiveInteger,
    hasAudio: expectBoolean,
    /** The source frame that is the project's frame 0 (an encode of a range starts later): playback's audio starts there. */
    firstFrame: expectIntegerIn(0, Number.MAX_SAFE_INTEGER),
    /** When the source's first frame is shown on the <audio> element's clock, in seconds (a video that starts after its sound). */
    firstFrameAtSec: expectNumberIn(0, 86_400)
  }),
  /** Names and groups of the 35 tracks, in parameter order (yaw, pitch, roll, then the 32 attributes). */
  paramNames: expectArray(expectNonEmptyString, PARAM_COUNT),
  paramGroups: expectArray(paramGroup, PARAM_COUNT),
  poseUnit: expectOneOf('degree', 'pseudo-degree'),
  params: expectNumberArray(0, MAX_FRAMES * PARAM_COUNT),
  loss: expectNumberArray(0, MAX_FRAMES),
  /** The saved timeline edits (parse with parseTimeline), or null for none. */
  edits: expectNullable(expectJson()),
  /** Set when saved edits could not be read (the damaged file is kept aside); the project opens without them. */
  editsWarning: expectNullable(expectString),
  /**
   * What main would not trust in the project folder, said to the user: a source video outside
   * the project that is not a video (it needs locating), a model bundle outside the models
   * folder (read, never written: import or copy it), a project file that is a symbolic link.
   */
  notices: expectArray(expectString, 16),
  /** Where the project came from when it is a puppeteered one. */
  puppeteeredFrom: expectNullable(expectString),
  /** The fine-tuning delta (stylecast tune, or the Fine-tune dialog); null when the project is untuned. */
  tune: expectNullable(
    expectObject({
      /** The delta file inside the project folder. */
      file: expectNonEmptyString,
      rank: expectPositiveInteger,
      deltaBytes: expectIntegerIn(0, Number.MAX_SAFE_INTEGER),
      /** The held-out PSNR medians (dB) tuning measured, before and after; null when the record has none (a copied delta). */
      psnrHeldOut: expectNullable(expectObject({ before: expectFiniteNumber, after: expectFiniteNumber })),
      /** Why the delta is not applied: it is damaged or missing and the user chose to render untuned. Null when it applies. */
      ignored: expectNullable(expectNonEmptyString)
    })
  ),
  /** A cancelled fine-tune left a checkpoint: starting it again with the same steps and rank resumes it. */
  tuneCheckpoint: expectBoolean,
  /** A stopped encode saved part of its identity search (identity-progress.bin): resuming the encode goes on from it. */
  identitySearchSaved: expectBoolean
});

const projectRef = expectObject({ project: expectAbsolutePath });

const encodeRequest = expectObject({
  video: expectAbsolutePath,
  /** The model bundle folder. */
  model: expectAbsolutePath,
  /** The NAME.stylecast folder to write; an existing one for the same video and model resumes. */
  out: expectAbsolutePath,
  /** Source frame range: first frame and count (null = to the end). */
  start: expectIntegerIn(0, MAX_FRAMES),
  count: expectNullable(expectIntegerIn(1, MAX_FRAMES)),
  quality: expectOneOf(...QUALITIES),
  align: expectOneOf(...ALIGN_MODES),
  /** Encoded-frame index to take the identity from; null lets the encoder choose. */
  identityFrame: expectNullable(expectIntegerIn(0, MAX_FRAMES))
});

/** A frame's 35 numbers: degrees and expression units, far below 1e6 in any real edit (1e39 would be Infinity in float32). */
const frameParams = expectNumberArray(PARAM_COUNT, PARAM_COUNT, 1e6);

const renderFrameRequest = expectObject({
  project: expectAbsolutePath,
  frame: expectIntegerIn(0, MAX_FRAMES),
  /** The 35 parameters to render (the edited values at that frame). */
  params: frameParams,
  /** Render size; null = the model's resolution. */
  size: expectNullable(expectPositiveInteger),
  /** Render with the untuned network even when the project is fine-tuned (the viewer's "before"). */
  untuned: expectBoolean
});

const sourceFrameRequest = expectObject({
  project: expectAbsolutePath,
  frame: expectIntegerIn(0, MAX_FRAMES),
  size: expectNullable(expectPositiveInteger)
});

const imageResult = expectObject({
  /** data:image/png;base64 */
  image: expectDataUrl,
  width: expectPositiveInteger,
  height: expectPositiveInteger,
  ms: expectNumberIn(0, Number.MAX_SAFE_INTEGER)
});

const saveEditsRequest = expectObject({
  project: expectAbsolutePath,
  edits: expectJson()
});

/** draft/normal/high are H.264 at falling crf; lossless is bit-exact RGB H.264 (4:4:4), for further editing. */
export const EXPORT_QUALITIES = ['draft', 'normal', 'high', 'lossless'] as const;

const exportRequest = expectObject({
  project: expectAbsolutePath,
  out: expectAbsolutePath,
  size: expectPositiveInteger,
  pasteBack: expectBoolean,
  audio: expectBoolean,
  quality: expectOneOf(...EXPORT_QUALITIES),
  /** Timeline edits to apply (null = the encoded values). */
  edits: expectNullable(expectJson()),
  /** Encoded-frame range; null = all encoded frames. */
  start: expectNullable(expectIntegerIn(0, MAX_FRAMES)),
  count: expectNullable(expectIntegerIn(1, MAX_FRAMES))
});

/** The most steps and the highest rank a fine-tune request may ask for (the 5% budget caps the rank further per model). */
export const MAX_TUNE_STEPS = 20_000;
export const MAX_TUNE_RANK = 64;

const tuneRequest = expectObject({
  project: expectAbsolutePath,
  steps: expectIntegerIn(1, MAX_TUNE_STEPS),
  rank: expectIntegerIn(1, MAX_TUNE_RANK)
});

/**
 * What a fine-tune costs, timed on this machine: one training step of the real graph
 * (framesPerStep frames and localityPerStep random latents, forward and gradient) and one
 * full-resolution render (tuning renders every encoded frame twice to measure PSNR).
 */
const tuneEstimate = expectObject({
  secondsPerStep: expectNumberIn(0, Number.MAX_SAFE_INTEGER),
  secondsPerRender: expectNumberIn(0, Number.MAX_SAFE_INTEGER),
  framesPerStep: expectIntegerIn(1, MAX_FRAMES),
  localityPerStep: expectIntegerIn(0, 1000),
  encoded: expectIntegerIn(0, MAX_FRAMES),
  tuned: expectIntegerIn(0, MAX_FRAMES),
  heldOut: expectIntegerIn(0, MAX_FRAMES),
  deltaBytes: expectIntegerIn(0, Number.MAX_SAFE_INTEGER),
  /** The highest rank whose delta fits 5% of the synthesis weights. */
  maxRank: expectIntegerIn(0, MAX_TUNE_RANK)
});

const puppetSettings = {
  /** The project whose motion drives the face. */
  motion: expectAbsolutePath,
  identity: expectObject({ kind: expectOneOf('project', 'portrait'), path: expectAbsolutePath }),
  mode: expectOneOf(...PUPPET_MODES),
  /** Transfer only this part of the motion; null = everything. */
  lock: expectNullable(expectOneOf(...REGION_LOCKS)),
  strength: expectNumberIn(0, 3)
};

const puppeteerRequest = expectObject({
  ...puppetSettings,
  out: expectAbsolutePath,
  /**
   * Fine-tune the generator on the portrait and store the delta in the driven project; null:
   * no tuning. A portrait identity only (a project identity brings its own delta). steps null:
   * the default of `stylecast puppeteer --tune`.
   */
  tune: expectNullable(expectObject({ steps: expectNullable(expectIntegerIn(1, MAX_TUNE_STEPS)) }))
});
const puppeteerPreviewRequest = expectObject({ ...puppetSettings, frame: expectIntegerIn(0, MAX_FRAMES) });

const saveDialogRequest = expectObject({
  /** An export (video), a new project folder (project), or a constant-rate copy of a video (copy). */
  kind: expectOneOf('video', 'project', 'copy'),
  /** Suggested file or folder path. */
  defaultPath: expectAbsolutePath
});

const mediaUrl = expectObject({
  /** A URL the page may put in an <audio> or <video> element. */
  url: expectNonEmptyString
});

/** Checkpoint files the model manager imports (lower case, with the dot). */
export const CHECKPOINT_EXTENSIONS = ['.pkl', '.pt', '.pth'] as const;
/** A catalogue name or bundle folder name: a plain name, never a path. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const expectModelName: Validator<string> = (v, path) => {
  if (typeof v !== 'string' || !MODEL_NAME.test(v)) throw new ContractError(`${path} must be a model name (letters, digits, '.', '_' and '-', at most 100)`);
  return v;
};

const catalogEntry = expectObject({
  name: expectModelName,
  kind: expectOneOf('generator', 'perceptual-backbone', 'perceptual-heads'),
  purpose: expectString,
  licence: expectString,
  url: expectString,
  /** Size in bytes, or null where the publisher gives none. */
  bytes: expectNullable(expectIntegerIn(0, Number.MAX_SAFE_INTEGER)),
  installed: expectBoolean,
  /** A cut download that a new download resumes. */
  partial: expectNullable(expectObject({ received: expectIntegerIn(0, Number.MAX_SAFE_INTEGER), bytes: expectNullable(expectIntegerIn(0, Number.MAX_SAFE_INTEGER)) }))
});

const modelCatalog = expectObject({
  entries: expectArray(catalogEntry, 1000),
  /** Bundle folders models:remove refuses (the default seeded model). */
  protectedPaths: expectArray(expectAbsolutePath, 100)
});

export const MENU_COMMANDS = ['open-video', 'open-project', 'open-recent', 'undo', 'redo'] as const;

const menuCommand = expectObject({
  command: expectOneOf(...MENU_COMMANDS),
  /** Set for open-recent. */
  path: expectNullable(expectAbsolutePath)
});

/** The timeline's undo and redo steps (their labels, e.g. "Move Key"), for Edit > Undo / Redo; null when there is none. */
const editState = expectObject({ undo: expectNullable(expectNonEmptyString), redo: expectNullable(expectNonEmptyString) });

export type EditState = Infer<typeof editState>;
export type ModelCatalog = Infer<typeof modelCatalog>;
export type CatalogEntryInfo = Infer<typeof catalogEntry>;
export type Device = Infer<typeof device>;
export type AppInfo = Infer<typeof appInfo>;
export type ModelSummary = Infer<typeof modelSummary>;
export type RecentProject = Infer<typeof recentProject>;
export type JobProgress = Infer<typeof jobProgress>;
export type MenuCommand = Infer<typeof menuCommand>;
export type JobKind = Infer<typeof jobKind>;
export type EncodeFrameEvent = Infer<typeof encodeFrame>;
export type JobDone = Infer<typeof jobDone>;
export type ParamGroup = Infer<typeof paramGroup>;
export type ModelInfo = Infer<typeof modelInfo>;
export type VideoInfo = Infer<typeof videoInfo>;
export type ProjectSummary = Infer<typeof projectSummary>;
export type EncodeRequest = Infer<typeof encodeRequest>;
export type RenderFrameRequest = Infer<typeof renderFrameRequest>;
export type ImageResult = Infer<typeof imageResult>;
export type ExportRequest = Infer<typeof exportRequest>;
export type PuppeteerRequest = Infer<typeof puppeteerRequest>;
export type PuppeteerPreviewRequest = Infer<typeof puppeteerPreviewRequest>;
export type TuneRequest = Infer<typeof tuneRequest>;
export type TuneEstimate = Infer<typeof tuneEstimate>;

// ---- the contract ----------------------------------------------------------

interface MethodSpec<Req, Res> {
  request: Validator<Req>;
  response: Validator<Res>;
}

const method = <Req, Res>(request: Validator<Req>, response: Validator<Res>): MethodSpec<Req, Res> => ({ request, response });

/** Renderer -> main request/response calls (ipcRenderer.invoke / ipcMain.handle). */
export const invokeContract = {
  'app:info': method(expectNothing, appInfo),
  'models:list': method(expectNothing, expectArray(modelSummary)),
  /** Shows the native open dialog; null when cancelled. */
  'dialog:openVideo': method(expectNothing, expectNullable(expectAbsolutePath)),
  'dialog:openProject': method(expectNothing, expectNullable(expectAbsolutePath)),
  'recent:list': method(expectNothing, expectArray(recentProject, MAX_RECENT_PROJECTS)),
  /**
   * Puts a file the user opened (through a dialog, a drop or the recent list) at the top of
   * the recent list; returns the new list. Main refuses a path it was not shown by the user.
   */
  'recent:add': method(pathRequest, expectArray(recentProject, MAX_RECENT_PROJECTS)),
  /**
   * A file dropped on the window: lets main read it and answers its path. Only preload calls
   * this, with the path Electron gives for the dropped File, so the page cannot name one.
   */
  'file:openDropped': method(pathRequest, expectAbsolutePath),
  /** A portrait image for puppeteering; null when cancelled. */
  'dialog:openImage': method(expectNothing, expectNullable(expectAbsolutePath)),
  /** The native save dialog for an export (kind video) or a new project folder (kind project). */
  'dialog:save': method(saveDialogRequest, expectNullable(expectAbsolutePath)),
  /** Shows a written file or folder in the system file manager. */
  'shell:showItem': method(pathRequest, expectNothing),
  /** Calibration and sizes of one model bundle. */
  'models:info': method(pathRequest, modelInfo),
  'video:probe': method(pathRequest, videoInfo),
  /**
   * Writes a constant-rate copy of an opened video (`out` chosen in dialog:save, kind copy) at the
   * rate constantRateOf picks (a phone's nominal 30, say), with its sound: a job of kind conform. The copy can then be opened and encoded
   * in sync (a variable-rate recording's frames are otherwise taken by their order).
   */
  'video:conform': method(expectObject({ video: expectAbsolutePath, out: expectAbsolutePath }), jobStarted),
  /** A URL for playing a video's audio in the page (only for files the user opened). */
  'media:url': method(pathRequest, mediaUrl),
  'project:open': method(pathRequest, projectSummary),
  /** Saves timeline edits atomically into the project (autosave calls this too). */
  'project:saveEdits': method(saveEditsRequest, expectNothing),
  /** Renders one frame of a project with the given parameters (the editor preview). */
  'render:frame': method(renderFrameRequest, imageResult),
  /** The aligned source crop of one frame, as the encoder saw it. */
  'render:source': method(sourceFrameRequest, imageResult),
  /** Starts an encode (or resumes one); progress comes as job:progress, encode:frame and job:done. */
  'encode:start': method(encodeRequest, jobStarted),
  'export:start': method(exportRequest, jobStarted),
  /** Times one fine-tuning step of the project at this rank in a job process (the cost shown before tuning). */
  'tune:estimate': method(expectObject({ project: expectAbsolutePath, rank: expectIntegerIn(1, MAX_TUNE_RANK) }), tuneEstimate),
  /** Fine-tunes the project's generator (a job of kind tune); a cancelled one resumes when started again with the same settings. */
  'tune:start': method(tuneRequest, jobStarted),
  'puppeteer:start': method(puppeteerRequest, jobStarted),
  /** One driven frame, rendered without writing anything. */
  'puppeteer:preview': method(puppeteerPreviewRequest, imageResult),
  /** The model catalogue: what can be downloaded, what is installed or partly downloaded. */
  'models:catalog': method(expectNothing, modelCatalog),
  /** The native open dialog for a StyleGAN2 checkpoint (.pkl/.pt/.pth); null when cancelled. */
  'dialog:openCheckpoint': method(expectNothing, expectNullable(expectAbsolutePath)),
  /** Imports a checkpoint chosen in dialog:openCheckpoint into a new bundle, as a job of kind model. */
  'models:import': method(pathRequest, jobStarted),
  /** Downloads (or resumes) a catalogue model, as a job of kind model. */
  'models:download': method(expectObject({ name: expectModelName }), jobStarted),
  /** Removes a bundle folder of the models folder (never the default seeded model). */
  'models:remove': method(expectObject({ name: expectModelName }), expectNothing),
  /** Cancels a running job; it ends with a job:done of status cancelled. */
  'job:cancel': method(jobRef, expectNothing),
  /** Projects opened and unsaved edits are the renderer's: main asks before quitting while a job runs. */
  'project:close': method(projectRef, expectNothing),
  /**
   * The renderer says whether it holds edits not yet saved (autosave pending or failed);
   * closing the window or quitting then asks before discarding them.
   */
  'window:setUnsavedChanges': method(expectObject({ unsaved: expectBoolean }), expectNothing),
  /**
   * The per-frame plots of the open project (eval.png's: PSNR, SSIM, LPIPS, AKD, identity,
   * jitter from the project's eval.json, and the encoder's loss); `evaluated` is false when
   * `stylecast eval` has not run on it yet, and the plot then shows the loss only.
   */
  'project:evaluation': method(projectRef, expectObject({ image: expectDataUrl, width: expectPositiveInteger, height: expectPositiveInteger, evaluated: expectBoolean })),
  /**
   * Evaluates the open project as `stylecast eval` does (re-render against the source, face
   * metrics included), writing eval.json and eval.png into it; a job of kind evaluate, with
   * progress and cancel. A cancelled evaluation leaves the last report as it was.
   */
  'evaluate:start': method(projectRef, jobStarted),
  /** The editor's undo and redo steps, which the Edit menu names and runs (through menu:command); null when the editor closes. */
  'menu:setEditState': method(expectNullable(editState), expectNothing)
} as const;

/** Main -> renderer notifications (webContents.send / ipcRenderer.on). */
export const eventContract = {
  'job:progress': jobProgress,
  'encode:frame': encodeFrame,
  'job:done': jobDone,
  /** An application-menu item the renderer acts on, so menu and UI share one code path. */
  'menu:command': menuCommand
} as const;

export type InvokeName = keyof typeof invokeContract;
export type EventName = keyof typeof eventContract;

type Spec<N extends InvokeName> = (typeof invokeContract)[N];
export type InvokeRequest<N extends InvokeName> = Spec<N> extends MethodSpec<infer Req, unknown> ? Req : never;
export type InvokeResponse<N extends InvokeName> = Spec<N> extends MethodSpec<unknown, infer Res> ? Res : never;
export type EventPayload<E extends EventName> = Infer<(typeof eventContract)[E]>;

/** Methods without a payload are called with no argument. */
export type InvokeArgs<N extends InvokeName> = InvokeRequest<N> extends undefined ? [] : [request: InvokeRequest<N>];

export const INVOKE_NAMES = Object.keys(invokeContract) as InvokeName[];
export const EVENT_NAMES = Object.keys(eventContract) as EventName[];

export const isInvokeName = (name: unknown): name is InvokeName => typeof name === 'string' && Object.hasOwn(invokeContract, name);

/** Methods only preload calls, each behind its own function; `invoke` refuses them. */
export const PRELOAD_ONLY_METHODS = ['file:openDropped'] as const satisfies readonly InvokeName[];
export type PageInvokeName = Exclude<InvokeName, (typeof PRELOAD_ONLY_METHODS)[number]>;
export const isPageInvokeName = (name: unknown): name is PageInvokeName =>
  isInvokeName(name) && !(PRELOAD_ONLY_METHODS as readonly string[]).includes(name);
export const isEventName = (name: unknown): name is EventName => typeof name === 'string' && Object.hasOwn(eventContract, name);

export function validateRequest<N extends InvokeName>(name: N, payload: unknown): InvokeRequest<N> {
  return invokeContract[name].request(payload, `${name} payload`) as InvokeRequest<N>;
}

export function validateResponse<N extends InvokeName>(name: N, payload: unknown): InvokeResponse<N> {
  return invokeContract[name].response(payload, `${name} result`) as InvokeResponse<N>;
}

export function validateEvent<E extends EventName>(name: E, payload: unknown): EventPayload<E> {
  return eventContract[name](payload, `${name} event`) as EventPayload<E>;
}

/** What preload exposes on `window.stylecast`. */
export interface StylecastApi {
  invoke<N extends PageInvokeName>(name: N, ...args: InvokeArgs<N>): Promise<InvokeResponse<N>>;
  /** Subscribes to a main-process event; returns the unsubscribe function. */
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
  /**
   * Opens a File dropped on the window: main may read it from then on. Answers its path, or
   * null when the File has no place on disk (dragged from another app). File.path is gone in
   * sandboxed renderers, and the page cannot name a path here: preload asks Electron for it.
   */
  openDroppedFile(file: File): Promise<string | null>;
}
