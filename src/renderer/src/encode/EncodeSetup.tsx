import { useEffect, useMemo, useState } from 'react';
import { ALIGN_MODES, QUALITIES, fileName, type ModelInfo, type ModelSummary, type StylecastApi, type VideoInfo } from '../../../shared/contract';
import { errorMessage } from '../api';
import { Button } from '../ui/Button';
import { Field } from '../ui/Field';
import { formatDuration, formatFps, plural } from '../ui/format';
import { FolderIcon, PlayIcon } from '../ui/icons';
import { SegmentedControl } from '../ui/SegmentedControl';
import { Slider } from '../ui/Slider';
import { InlineNotice } from '../ui/Toast';
import { useShortcut } from '../ui/useShortcut';
import { ALIGN_INFO, QUALITY_INFO, clampForm, hasErrors, totalFrames, validateForm, type EncodeForm } from './encodeForm';
import { FrameTimeInput } from './FrameTimeInput';
import { SourcePreview } from './SourcePreview';
import { TimingNotice } from './TimingNotice';

export interface EncodeSetupProps {
  api: StylecastApi;
  video: VideoInfo;
  /** null while loading. */
  models: ModelSummary[] | null;
  modelsError: string | null;
  form: EncodeForm;
  onChange(form: EncodeForm): void;
  onStart(): void;
  /** Why the last start failed, shown above the Start button. */
  startError: string | null;
  starting: boolean;
  /** Opens another video in place of this one (the constant-rate copy made from it). */
  onOpenVideo(path: string): void;
}

type PreviewFocus = 'start' | 'end' | 'identity';

function VideoFacts({ video }: { video: VideoInfo }) {
  const total = totalFrames(video);
  return (
    <dl className="facts" aria-label="Video">
      <div>
        <dt>Size</dt>
        <dd>
          {video.width} × {video.height}
        </dd>
      </div>
      <div>
        <dt>Frame rate</dt>
        <dd>{formatFps(video.fps)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>{formatDuration(video.durationSec)}</dd>
      </div>
      <div>
        <dt>Frames</dt>
        <dd>{total.toLocaleString('en-US')}</dd>
      </div>
      <div>
        <dt>Audio</dt>
        <dd title={video.hasAudio ? 'Kept on export' : undefined}>{video.hasAudio ? 'Yes' : 'None'}</dd>
      </div>
      {video.picture && (
        <div>
          <dt>Picture</dt>
          <dd>{video.picture}</dd>
        </div>
      )}
    </dl>
  );
}

/** The range inside the clip, drawn as a bar with the identity frame marked. */
function RangeBar({ total, start, count, identity }: { total: number; start: number; count: number; identity: 'auto' | number }) {
  const pct = (f: number) => `${(f / Math.max(1, total)) * 100}%`;
  return (
    <div className="range-bar" aria-hidden="true">
      <div className="range-fill" style={{ left: pct(start), width: pct(count) }} />
      {identity !== 'auto' && <div className="range-marker" style={{ left: pct(start + identity + 0.5) }} />}
    </div>
  );
}

export function EncodeSetup({ api, video, models, modelsError, form, onChange, onStart, startError, starting, onOpenVideo }: EncodeSetupProps) {
  const total = totalFrames(video);
  const [focus, setFocus] = useState<PreviewFocus>('start');
  const [info, setInfo] = useState<ModelInfo | null>(null);
  const [infoError, setInfoError] = useState<string | null>(null);
  const errors = useMemo(() => (models ? validateForm(form, video, models) : {}), [form, video, models]);
  // A constant-rate copy being made would replace this video: the encode waits for it.
  const [copying, setCopying] = useState(false);
  const blocked = models === null || hasErrors(errors) || starting || copying;

  useEffect(() => {
    let live = true;
    setInfo(null);
    setInfoError(null);
    if (form.model) {
      api.invoke('models:info', { path: form.model }).then(
        (i) => live && setInfo(i),
        (e: unknown) => live && setInfoError(errorMessage(e))
      );
    }
    return () => {
      live = false;
    };
  }, [api, form.model]);

  const set = (patch: Partial<EncodeForm>, f?: PreviewFocus) => {
    if (f) setFocus(f);
    onChange(clampForm({ ...form, ...patch }, video));
  };

  const chooseOut = async () => {
    const path = await api.invoke('dialog:save', { kind: 'project', defaultPath: form.out }).catch(() => null);
    if (path) set({ out: path });
  };

  useShortcut('mod+enter', () => !blocked && onStart(), { enabled: !blocked });

  const previewFrame =
    focus === 'identity' && form.identity !== 'auto' ? form.start + form.identity : focus === 'end' ? form.start + form.count - 1 : form.start;
  const caption = focus === 'identity' && form.identity !== 'auto' ? 'Identity frame' : focus === 'end' ? 'Last frame' : 'First frame of the range';
  const resolvedAlign =
    form.align === 'auto' && info ? (video.width === info.resolution && video.height === info.resolution ? 'the video is used as aligned crops' : 'faces will be detected and aligned') : null;
  const estimate = form.count / Math.max(1, video.fps);

  return (
    <div className="encode-setup">
      <section className="setup-source panel" aria-labelledby="source-title">
        <header className="panel-header">
          <h2 id="source-title">Source</h2>
          <span className="panel-header-detail" title={video.path}>
            {fileName(video.path)}
          </span>
        </header>
        <div className="setup-source-body">
          <SourcePreview api={api} video={video} frame={Math.min(previewFrame, Math.max(0, total - 1))} caption={caption} />
          <RangeBar total={total} start={form.start} count={form.count} identity={form.identity} />
          <VideoFacts video={video} />
          <TimingNotice api={api} video={video} onOpenVideo={onOpenVideo} onBusy={setCopying} />
        </div>
      </section>

      <form
        className="setup-form panel"
        aria-labelledby="settings-title"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!blocked) onStart();
        }}
      >
        <header className="panel-header">
          <h2 id="settings-title">Encode settings</h2>
        </header>
        <div className="setup-form-body">
          <Field
            label="Model"
            error={modelsError ?? errors.model ?? infoError}
            hint={info ? `${info.resolution} px · ${info.calibrated ? 'calibrated track names' : 'not calibrated: tracks are numbered'} · pose in ${info.poseUnit === 'degree' ? 'degrees' : 'pseudo-degrees'}` : undefined}
          >
            {(p) => (
              <select {...p} value={form.model ?? ''} onChange={(e) => set({ model: e.target.value || null })} disabled={!models || models.length === 0} data-testid="encode-model">
                {models === null && <option value="">Looking for model bundles…</option>}
                {models?.length === 0 && <option value="">No model bundle installed</option>}
                {models?.map((m) => (
                  <option key={m.path} value={m.path}>
                    {m.name} — {m.resolution} px
                  </option>
                ))}
              </select>
            )}
          </Field>

          <fieldset className="fieldset">
            <legend className="field-label">Frame range</legend>
            <div className="two-columns">
              <FrameTimeInput
                label="Start"
                value={form.start}
                fps={video.fps}
                min={0}
                max={Math.max(0, total - 1)}
                onChange={(start) => set({ start, count: Math.min(form.count, total - start) }, 'start')}
                error={errors.start}
                data-testid="encode-start-frame"
              />
              <FrameTimeInput
                label="Count"
                value={form.count}
                fps={video.fps}
                min={1}
                max={Math.max(1, total - form.start)}
                onChange={(count) => set({ count }, 'end')}
                error={errors.count}
                data-testid="encode-frame-count"
              />
            </div>
            <div className="range-summary">
              <span>
                Frames {form.start}–{form.start + form.count - 1} of {total} · {formatDuration(estimate)}
              </span>
              {(form.start > 0 || form.count < total - form.start) && (
                <button type="button" className="link-button" onClick={() => set({ start: 0, count: total }, 'start')}>
                  Whole clip
                </button>
              )}
            </div>
          </fieldset>

          <div className="choice">
            <SegmentedControl
              label="Quality"
              options={QUALITIES.map((q) => ({ value: q, label: QUALITY_INFO[q].label, hint: QUALITY_INFO[q].summary }))}
              value={form.quality}
              onChange={(quality) => set({ quality })}
              data-testid="encode-quality"
            />
            <p className="field-hint">{QUALITY_INFO[form.quality].summary}</p>
          </div>

          <div className="choice">
            <SegmentedControl
              label="Face alignment"
              options={ALIGN_MODES.map((a) => ({ value: a, label: ALIGN_INFO[a].label, hint: ALIGN_INFO[a].summary }))}
              value={form.align}
              onChange={(align) => set({ align })}
              data-testid="encode-align"
            />
            <p className="field-hint">
              {ALIGN_INFO[form.align].summary}
              {resolvedAlign ? ` Here ${resolvedAlign}.` : ''}
            </p>
          </div>

          <div className="choice">
            <SegmentedControl
              label="Identity frame"
              options={[
                { value: 'auto', label: 'Automatic', hint: 'The encoder inverts a few frontal frames and keeps the one it reconstructs best.' },
                { value: 'chosen', label: 'Choose a frame', hint: 'Use one frame you pick as the neutral face.' }
              ]}
              value={form.identity === 'auto' ? 'auto' : 'chosen'}
              onChange={(v) => set({ identity: v === 'auto' ? 'auto' : Math.floor((form.count - 1) / 2) }, v === 'auto' ? 'start' : 'identity')}
              data-testid="encode-identity-mode"
            />
            {form.identity === 'auto' ? (
              <p className="field-hint">The identity is the face every frame is an edit of; pick one yourself when the speaker looks straight at the camera with a neutral expression in a known frame.</p>
            ) : (
              <Slider
                label="Frame in the range"
                value={form.identity}
                min={0}
                max={Math.max(0, form.count - 1)}
                onChange={(identity) => set({ identity }, 'identity')}
                hint={`Source frame ${form.start + form.identity}: look straight ahead, mouth closed, neutral brows. Shown in the preview.`}
                data-testid="encode-identity-frame"
              />
            )}
            {errors.identity && <p className="field-error">{errors.identity}</p>}
          </div>

          <Field label="Project folder" error={errors.out} hint="Everything the encode writes goes in this folder; an existing project for the same video, model and range is resumed.">
            {(p) => (
              <div className="path-row">
                <input {...p} type="text" readOnly value={form.out} title={form.out} data-testid="encode-out" />
                <Button variant="secondary" icon={<FolderIcon width={16} height={16} />} onClick={() => void chooseOut()} data-testid="encode-choose-out">
                  Change…
                </Button>
              </div>
            )}
          </Field>
        </div>
        <footer className="setup-footer">
          {startError && (
            <InlineNotice kind="error" data-testid="encode-start-error">
              {startError}
            </InlineNotice>
          )}
          <div className="setup-footer-row">
            <span className="setup-summary">
              {plural(form.count, 'frame')} · {QUALITY_INFO[form.quality].label} · {info ? `${info.name}` : '…'}
            </span>
            <Button type="submit" variant="primary" size="large" icon={<PlayIcon width={18} height={18} />} shortcut="mod+enter" disabled={blocked} busy={starting} data-testid="start-encode">
              Start encode
            </Button>
          </div>
        </footer>
      </form>
    </div>
  );
}
