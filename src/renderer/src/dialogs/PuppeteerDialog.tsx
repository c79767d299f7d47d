import { useEffect, useMemo, useRef, useState } from 'react';
import { PUPPET_MODES, REGION_LOCKS, fileName, type ImageResult, type ProjectSummary, type StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Field } from '../ui/Field';
import { plural } from '../ui/format';
import { FolderIcon, ImageIcon, ProjectIcon, PuppetIcon, RefreshIcon } from '../ui/icons';
import { Modal } from '../ui/Modal';
import { CancelJobButton, JobProgressBar } from '../ui/JobStatus';
import { SegmentedControl } from '../ui/SegmentedControl';
import { Slider } from '../ui/Slider';
import { InlineNotice } from '../ui/Toast';
import { useJob } from '../ui/useJob';
import { LOCK_INFO, MAX_STRENGTH, MODE_INFO, initialPuppetForm, previewKey, puppetOut, toPreviewRequest, toPuppeteerRequest, validatePuppet, type MotionSource, type PuppetForm } from './puppeteerForm';

export interface PuppeteerDialogProps {
  api: StylecastApi;
  /** The project open in the editor: the default motion source. */
  project: ProjectSummary;
  onClose(): void;
  /** Opens the new, driven project in the editor. */
  onOpenProject(path: string): void;
}

const PREVIEW_DELAY_MS = 250;

type Preview = { state: 'idle' } | { state: 'loading'; key: string } | { state: 'ready'; key: string; image: ImageResult } | { state: 'error'; key: string; message: string };

/** Drives one face (a project or a portrait) with the motion of a project into a new project. */
export function PuppeteerDialog({ api, project, onClose, onOpenProject }: PuppeteerDialogProps) {
  const current: MotionSource = useMemo(() => ({ path: project.path, name: project.name, frames: project.encodedThrough, total: project.frameCount }), [project]);
  const [form, setForm] = useState<PuppetForm>(() => initialPuppetForm(current));
  const [preview, setPreview] = useState<Preview>({ state: 'idle' });
  const [source, setSource] = useState<ImageResult | null>(null);
  const [pickError, setPickError] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const job = useJob(api, 'puppeteer');
  const { phase } = job.state;
  const running = phase === 'starting' || phase === 'running';
  const invalid = validatePuppet(form);
  const set = (patch: Partial<PuppetForm>) => setForm((f) => ({ ...f, ...patch }));

  // The motion source frame beside the preview.
  useEffect(() => {
    let live = true;
    if (form.motion.frames < 1) return;
    const t = setTimeout(() => {
      api.invoke('render:source', { project: form.motion.path, frame: Math.min(form.frame, form.motion.frames - 1), size: null }).then(
        (r) => live && setSource(r),
        () => live && setSource(null)
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [api, form.motion, form.frame]);

  // The driven preview, after the settings rest for a moment; stale answers are dropped.
  const key = previewKey(form);
  const latest = useRef(key);
  latest.current = key;
  useEffect(() => {
    if (!form.identity || invalid) {
      setPreview({ state: 'idle' });
      return;
    }
    const req = toPreviewRequest(form);
    const t = setTimeout(() => {
      setPreview({ state: 'loading', key });
      api.invoke('puppeteer:preview', req).then(
        (image) => latest.current === key && setPreview({ state: 'ready', key, image }),
        (e: unknown) => latest.current === key && setPreview({ state: 'error', key, message: errorMessage(e) })
      );
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(t);
    // key captures every field the request uses.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, key, invalid]);

  const pickMotion = async (which: 'current' | 'other') => {
    setPickError(null);
    if (which === 'current') return set({ motion: current, frame: Math.min(form.frame, Math.max(0, current.frames - 1)) });
    const path = await api.invoke('dialog:openProject').catch((e: unknown) => (setPickError(errorMessage(e)), null));
    if (!path) return;
    try {
      const other = path === project.path ? project : await api.invoke('project:open', { path });
      if (other !== project) await api.invoke('project:close', { project: other.path }).catch(() => undefined);
      set({ motion: { path: other.path, name: other.name, frames: other.encodedThrough, total: other.frameCount }, frame: Math.floor(Math.max(0, other.encodedThrough - 1) / 2) });
    } catch (e) {
      setPickError(`${fileName(path)} could not be opened as a motion source: ${errorMessage(e)}`);
    }
  };

  const pickIdentity = async (kind: 'project' | 'portrait') => {
    setPickError(null);
    const path = await api.invoke(kind === 'project' ? 'dialog:openProject' : 'dialog:openImage').catch((e: unknown) => (setPickError(errorMessage(e)), null));
    if (path) set({ identity: { kind, path } });
  };

  const chooseOut = async (): Promise<string | null> => {
    const suggestion = puppetOut(form);
    if (!suggestion) return null;
    const path = await api.invoke('dialog:save', { kind: 'project', defaultPath: suggestion }).catch((e: unknown) => (setPickError(errorMessage(e)), null));
    if (path) set({ out: path });
    return path;
  };

  // Main writes only where the user chose, so the folder is confirmed in the save dialog before the first start.
  const start = async () => {
    const out = form.out ?? (await chooseOut());
    if (!out) return;
    await job.start(() => api.invoke('puppeteer:start', toPuppeteerRequest({ ...form, out })));
  };
  const requestClose = () => (running ? setConfirmCancel(true) : onClose());
  const motionIsCurrent = form.motion.path === project.path;
  const out = puppetOut(form);

  const footer =
    phase === 'done' ? (
      <>
        <Button variant="ghost" onClick={onClose}>
          Stay here
        </Button>
        <Button variant="primary" icon={<ProjectIcon width={16} height={16} />} onClick={() => onOpenProject(job.state.path ?? out!)} data-testid="puppet-open">
          Open in editor
        </Button>
      </>
    ) : running ? (
      <CancelJobButton job={job.state} label="Cancel" onClick={() => setConfirmCancel(true)} data-testid="puppet-cancel" />
    ) : (
      <>
        <Button variant="ghost" onClick={onClose} data-testid="puppet-dismiss">
          Close
        </Button>
        <Button variant="primary" icon={phase === 'failed' ? <RefreshIcon width={16} height={16} /> : <PuppetIcon width={16} height={16} />} onClick={() => void start()} disabled={invalid !== null} data-testid="puppet-start">
          {phase === 'failed' ? 'Retry' : form.out ? 'Create driven project' : 'Create driven project…'}
        </Button>
      </>
    );

  const identityName = form.identity ? fileName(form.identity.path) : null;
  return (
    <Modal title="Puppeteer" subtitle="Drive one face with another’s motion, into a new project." onClose={requestClose} footer={footer} width={880} data-testid="puppeteer-dialog">
      <div className="puppet-layout">
        <fieldset className="fieldset dialog-form" disabled={running || phase === 'done'}>
          <div className="choice">
            <span className="field-label">Motion source</span>
            <div className="source-choice">
              <SegmentedControl
                label="Motion source"
                hideLabel
                options={[
                  { value: 'current', label: 'This project' },
                  { value: 'other', label: motionIsCurrent ? 'Another project…' : form.motion.name }
                ]}
                value={motionIsCurrent ? 'current' : 'other'}
                onChange={(v) => void pickMotion(v)}
                data-testid="puppet-motion"
              />
            </div>
            <p className="field-hint">
              {form.motion.name} · {plural(form.motion.frames, 'encoded frame')}
            </p>
          </div>

          <div className="choice">
            <span className="field-label">Identity (the face that is driven)</span>
            <div className="identity-choice">
              <Button variant={form.identity?.kind === 'portrait' ? 'primary' : 'secondary'} icon={<ImageIcon width={16} height={16} />} onClick={() => void pickIdentity('portrait')} data-testid="puppet-choose-portrait">
                Portrait image…
              </Button>
              <Button variant={form.identity?.kind === 'project' ? 'primary' : 'secondary'} icon={<ProjectIcon width={16} height={16} />} onClick={() => void pickIdentity('project')} data-testid="puppet-choose-project">
                Project…
              </Button>
            </div>
            <p className="field-hint" data-testid="puppet-identity">
              {identityName ? `${form.identity!.kind === 'portrait' ? 'Portrait' : 'Project'}: ${identityName}` : 'A front-facing photo with a neutral expression works best; its face is found, aligned and inverted.'}
            </p>
            {form.identity?.kind === 'portrait' && (
              <>
                <label className="checkbox">
                  <input type="checkbox" checked={form.tunePortrait} onChange={(e) => set({ tunePortrait: e.target.checked })} data-testid="puppet-tune-portrait" />
                  <span>Tune on the portrait</span>
                </label>
                <p className="field-hint">
                  {form.tunePortrait
                    ? 'Fine-tunes the generator on this photo, so the driven face keeps its detail; the small delta is stored in the new project. It adds minutes to the job, and the preview shows the face untuned.'
                    : 'The driven face is the portrait as inverted, with the untuned generator.'}
                </p>
              </>
            )}
          </div>

          <div className="choice">
            <SegmentedControl label="Mode" options={PUPPET_MODES.map((m) => ({ value: m, label: MODE_INFO[m].label, hint: MODE_INFO[m].summary }))} value={form.mode} onChange={(mode) => set({ mode })} data-testid="puppet-mode" />
            <p className="field-hint">{MODE_INFO[form.mode].summary}</p>
          </div>

          <div className="choice">
            <SegmentedControl
              label="Region lock"
              options={(['none', ...REGION_LOCKS] as const).map((l) => ({ value: l, label: LOCK_INFO[l].label, hint: LOCK_INFO[l].summary }))}
              value={form.lock ?? 'none'}
              onChange={(l) => set({ lock: l === 'none' ? null : l })}
              data-testid="puppet-lock"
            />
            <p className="field-hint">{LOCK_INFO[form.lock ?? 'none'].summary}</p>
          </div>

          <Slider
            label="Motion strength"
            value={form.strength}
            min={0}
            max={MAX_STRENGTH}
            step={0.05}
            unit="×"
            onChange={(strength) => set({ strength })}
            hint="1× transfers the motion as it is; lower calms it, higher exaggerates it."
            data-testid="puppet-strength"
          />

          <Field label="New project folder" hint={form.out ? 'The driven result is a new project you can edit and export like any other.' : 'You confirm the folder in the save dialog when you start.'}>
            {(p) => (
              <div className="path-row">
                <input {...p} type="text" readOnly value={out ?? 'Choose an identity first'} title={out ?? undefined} className={form.out ? '' : 'is-suggestion'} data-testid="puppet-out" />
                <Button variant="secondary" icon={<FolderIcon width={16} height={16} />} onClick={() => void chooseOut()} disabled={!out} data-testid="puppet-choose-out">
                  Change…
                </Button>
              </div>
            )}
          </Field>
        </fieldset>

        <section className="puppet-preview" aria-labelledby="puppet-preview-title">
          <h3 id="puppet-preview-title" className="field-label">
            Preview
          </h3>
          <div className="preview-pair">
            <figure>
              {source ? <img src={source.image} alt={`Motion source, frame ${form.frame}`} /> : <div className="preview-blank">Motion frame</div>}
              <figcaption>Motion · {form.motion.name}</figcaption>
            </figure>
            <figure aria-busy={preview.state === 'loading'}>
              {preview.state === 'ready' ? (
                <img src={preview.image.image} alt={`Driven face at frame ${form.frame}`} data-testid="puppet-preview-image" className={preview.key !== key ? 'is-stale' : ''} />
              ) : (
                <div className={`preview-blank${preview.state === 'error' ? ' is-error' : ''}`}>
                  {preview.state === 'loading' ? (
                    <>
                      <span className="spinner" aria-hidden="true" /> Rendering…
                    </>
                  ) : preview.state === 'error' ? (
                    preview.message
                  ) : (
                    'Choose an identity to see the driven face'
                  )}
                </div>
              )}
              <figcaption>
                Result{identityName ? ` · ${identityName}` : ''}
                {preview.state === 'ready' ? ` · ${Math.round(preview.image.ms)} ms` : ''}
              </figcaption>
            </figure>
          </div>
          <Slider
            label="Preview frame"
            value={Math.min(form.frame, Math.max(0, form.motion.frames - 1))}
            min={0}
            max={Math.max(0, form.motion.frames - 1)}
            onChange={(frame) => set({ frame })}
            disabled={form.motion.frames < 2}
            data-testid="puppet-frame"
          />
          {form.identity?.kind === 'portrait' && preview.state === 'loading' && <p className="field-hint">The first preview of a portrait finds and inverts its face, which takes longer than the next ones.</p>}
        </section>
      </div>

      <div className="dialog-status">
        {pickError && <InlineNotice kind="error">{pickError}</InlineNotice>}
        {invalid && form.identity && phase === 'idle' && <InlineNotice kind="warning">{invalid}</InlineNotice>}
        {phase !== 'idle' && (
          <JobProgressBar job={job.state} label="Puppeteer progress" data-testid="puppet-progress" />
        )}
        {phase === 'done' && <InlineNotice kind="success">{job.state.message || 'The driven project is ready.'}</InlineNotice>}
        {phase === 'failed' && (
          <InlineNotice kind="error" data-testid="puppet-error">
            {job.state.message || 'Puppeteering stopped without saying why.'}
          </InlineNotice>
        )}
        {phase === 'cancelled' && <InlineNotice kind="info">Cancelled; no project was created.</InlineNotice>}
      </div>
      {confirmCancel && (
        <ConfirmDialog
          title="Cancel puppeteering?"
          confirmLabel="Cancel"
          cancelLabel="Keep going"
          danger
          onConfirm={() => {
            setConfirmCancel(false);
            void job.cancel().catch((e: unknown) => setPickError(errorMessage(e)));
          }}
          onCancel={() => setConfirmCancel(false)}
        >
          <p>The new project is not created. The sources are unchanged.</p>
        </ConfirmDialog>
      )}
    </Modal>
  );
}
