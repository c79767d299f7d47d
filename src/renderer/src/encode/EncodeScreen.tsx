import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { EncodeRequest, ModelSummary, StylecastApi, VideoInfo } from '../../../shared/contract';
import { errorMessage } from '../api';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { EncodeLive } from './EncodeLive';
import { encodeRunReducer, idleRun, mergeLoss } from './encodeRun';
import { initialForm, toEncodeRequest, totalFrames, type EncodeForm } from './encodeForm';
import { EncodeSetup } from './EncodeSetup';
import { browserStore, rememberEncode } from './resumeStore';

export interface EncodeScreenProps {
  api: StylecastApi;
  video: VideoInfo;
  models: ModelSummary[] | null;
  modelsError: string | null;
  /** Start straight away with this request (resume of an interrupted encode). */
  resume: EncodeRequest | null;
  /** Per-frame loss of the frames a resumed project already has. */
  priorLoss: readonly number[];
  /** Opens the finished project in the editor. */
  onOpenProject(path: string): void;
  /** Opens another video on this screen (a constant-rate copy of this one). */
  onOpenVideo(path: string): void;
  /** Tells the app which encode job is running, so leaving the screen can ask and cancel it. */
  onActiveJob(jobId: string | null): void;
}

/** Encode setup, then the live view of the encode it starts, on one screen. */
export function EncodeScreen({ api, video, models, modelsError, resume, priorLoss, onOpenProject, onOpenVideo, onActiveJob }: EncodeScreenProps) {
  const [form, setForm] = useState<EncodeForm>(() => (resume ? { ...initialForm(video, models ?? []), model: resume.model, out: resume.out, start: resume.start, count: resume.count ?? totalFrames(video) - resume.start, quality: resume.quality, align: resume.align, identity: resume.identityFrame ?? 'auto' } : initialForm(video, models ?? [])));
  const [request, setRequest] = useState<EncodeRequest | null>(null);
  const [run, dispatch] = useReducer(encodeRunReducer, undefined, idleRun);
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);
  const [prior, setPrior] = useState(() => priorLoss.map((loss, frame) => ({ frame, loss })));

  // Models arrive after the screen opens: pick the first one once they do.
  useEffect(() => {
    if (models && models.length > 0 && !form.model) setForm((f) => ({ ...f, model: models[0]!.path }));
  }, [models, form.model]);

  useEffect(() => {
    const offs = [
      api.on('job:progress', (progress) => dispatch({ type: 'progress', progress })),
      api.on('job:done', (done) => dispatch({ type: 'done', done })),
      api.on('encode:frame', (frame) => dispatch({ type: 'frame', frame }))
    ];
    return () => offs.forEach((off) => off());
  }, [api]);

  const active = run.job.phase === 'running' ? run.job.jobId : null;
  useEffect(() => onActiveJob(active), [active, onActiveJob]);

  const start = useCallback(
    async (req: EncodeRequest) => {
      setRequest(req);
      setStartError(null);
      const store = browserStore();
      if (store) rememberEncode(store, req);
      dispatch({ type: 'start' });
      setStartedAt(Date.now());
      try {
        const { jobId } = await api.invoke('encode:start', req);
        dispatch({ type: 'started', jobId });
      } catch (e) {
        dispatch({ type: 'start-failed', message: errorMessage(e) });
      }
    },
    [api]
  );

  // A resume starts as soon as the screen opens (once: StrictMode runs effects twice in development).
  const resumed = useRef(false);
  useEffect(() => {
    if (!resume || resumed.current) return;
    resumed.current = true;
    void start(resume);
  }, [resume, start]);

  const cancel = async () => {
    setConfirmCancel(false);
    if (!run.job.jobId) return;
    dispatch({ type: 'cancelling' });
    await api.invoke('job:cancel', { jobId: run.job.jobId }).catch((e: unknown) => dispatch({ type: 'done', done: { jobId: run.job.jobId!, kind: 'encode', status: 'failed', message: `Cancel failed: ${errorMessage(e)}`, path: null } }));
  };

  // A start that failed before a job existed belongs to the settings form, where it can be fixed.
  const startFailed = run.job.phase === 'failed' && run.job.jobId === null;
  if (!request || run.job.phase === 'idle' || startFailed) {
    return (
      <EncodeSetup
        api={api}
        video={video}
        models={models}
        modelsError={modelsError}
        form={form}
        onChange={setForm}
        onStart={() => void start(toEncodeRequest(form, video))}
        startError={startFailed ? run.job.message : startError}
        starting={false}
        onOpenVideo={onOpenVideo}
      />
    );
  }

  return (
    <>
      <EncodeLive
        run={run}
        request={request}
        frameCount={request.count ?? totalFrames(video) - request.start}
        startedAt={startedAt}
        onCancel={() => setConfirmCancel(true)}
        prior={prior}
        onResume={() => {
          // Keep what this run encoded on the plot; the next run continues after it.
          setPrior(mergeLoss(prior, run.frameLoss));
          void start(request);
        }}
        onOpen={() => onOpenProject(run.job.path ?? request.out)}
        onBackToSettings={() => {
          setStartError(null);
          dispatch({ type: 'reset' });
        }}
      />
      {confirmCancel && (
        <ConfirmDialog title="Cancel the encode?" confirmLabel="Cancel encode" cancelLabel="Keep encoding" danger onConfirm={() => void cancel()} onCancel={() => setConfirmCancel(false)}>
          <p>Frames encoded so far stay in the project folder. You can resume later from this screen or by opening the project.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
