import { useEffect, useMemo, useState } from 'react';
import { EXPORT_QUALITIES, fileName, type ModelInfo, type ProjectSummary, type StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Field } from '../ui/Field';
import { plural } from '../ui/format';
import { ExportIcon, FolderIcon, RefreshIcon } from '../ui/icons';
import { Modal } from '../ui/Modal';
import { CancelJobButton, JobProgressBar } from '../ui/JobStatus';
import { SegmentedControl } from '../ui/SegmentedControl';
import { InlineNotice } from '../ui/Toast';
import { useJob } from '../ui/useJob';
import { EXPORT_QUALITY_INFO, audioBlocker, defaultExportPath, exportSizes, initialExportForm, outputSize, pasteBackBlocker, toExportRequest, validateExport, type ExportForm } from './exportForm';

export interface ExportDialogProps {
  api: StylecastApi;
  project: ProjectSummary;
  /** The editor's timeline edits (serializeTimeline), or null to export the encoded values. */
  edits: unknown;
  onClose(): void;
}

/** Renders the project (with its edits) to a video file, with progress, cancel and "Show in folder". */
export function ExportDialog({ api, project, edits, onClose }: ExportDialogProps) {
  const [info, setInfo] = useState<ModelInfo | null>(null);
  const [infoError, setInfoError] = useState<string | null>(null);
  const [form, setForm] = useState<ExportForm>(() => initialExportForm(project, null));
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [showError, setShowError] = useState<string | null>(null);
  const job = useJob(api, 'export');
  const { phase } = job.state;
  const running = phase === 'starting' || phase === 'running';

  useEffect(() => {
    let live = true;
    if (!project.model.path) {
      setInfoError(`The model “${project.model.name}” this project was encoded with is not installed, so it cannot be rendered. Install it in Models.`);
      return;
    }
    api.invoke('models:info', { path: project.model.path }).then(
      (i) => {
        if (!live) return;
        setInfo(i);
        setForm((f) => ({ ...initialExportForm(project, i), out: f.out }));
      },
      (e: unknown) => live && setInfoError(errorMessage(e))
    );
    return () => {
      live = false;
    };
  }, [api, project]);

  const sizes = useMemo(() => exportSizes(info), [info]);
  const invalid = info ? validateExport(project, form, sizes) : null;
  const dims = outputSize(project, form);
  const set = (patch: Partial<ExportForm>) => setForm((f) => ({ ...f, ...patch }));

  const chooseOut = async (): Promise<string | null> => {
    const path = await api.invoke('dialog:save', { kind: 'video', defaultPath: form.out ?? defaultExportPath(project) }).catch((e: unknown) => {
      setShowError(errorMessage(e));
      return null;
    });
    if (path) set({ out: path });
    return path;
  };

  const startExport = async () => {
    const out = form.out ?? (await chooseOut());
    if (!out) return;
    await job.start(() => api.invoke('export:start', toExportRequest(project, form, edits, out)));
  };

  const requestClose = () => (running ? setConfirmCancel(true) : onClose());
  const pb = pasteBackBlocker(project);
  const ab = audioBlocker(project);

  const footer =
    phase === 'done' ? (
      <>
        <Button variant="ghost" onClick={() => job.reset()}>
          Export again
        </Button>
        <Button
          variant="secondary"
          icon={<FolderIcon width={16} height={16} />}
          onClick={() => job.state.path && void api.invoke('shell:showItem', { path: job.state.path }).catch((e: unknown) => setShowError(errorMessage(e)))}
          disabled={!job.state.path}
          data-testid="export-show-in-folder"
        >
          Show in folder
        </Button>
        <Button variant="primary" onClick={onClose} data-testid="export-close">
          Done
        </Button>
      </>
    ) : running ? (
      <CancelJobButton job={job.state} label="Cancel export" onClick={() => setConfirmCancel(true)} data-testid="export-cancel" />
    ) : (
      <>
        <Button variant="ghost" onClick={onClose} data-testid="export-dismiss">
          Close
        </Button>
        <Button
          variant="primary"
          icon={phase === 'failed' ? <RefreshIcon width={16} height={16} /> : <ExportIcon width={16} height={16} />}
          onClick={() => void startExport()}
          disabled={!info || invalid !== null}
          data-testid="export-start"
        >
          {phase === 'failed' ? 'Retry export' : form.out ? 'Export' : 'Export…'}
        </Button>
      </>
    );

  return (
    <Modal title="Export video" subtitle={`${project.name} · ${plural(project.encodedThrough, 'encoded frame')}${edits ? ' · with timeline edits' : ''}`} onClose={requestClose} footer={footer} width={600} data-testid="export-dialog">
      <div className="dialog-form" aria-busy={running}>
        {infoError && <InlineNotice kind="error">{infoError}</InlineNotice>}
        <fieldset className="fieldset" disabled={running || phase === 'done'}>
          <SegmentedControl
            label="Resolution"
            options={(sizes.length ? sizes : [form.size]).map((s) => ({ value: String(s), label: `${s} px` }))}
            value={String(form.size)}
            onChange={(v) => set({ size: Number(v) })}
            data-testid="export-size"
          />
          <p className="field-hint">
            The face is rendered at this size{info && info.resolution < 1024 ? `; ${info.name} renders up to ${info.resolution} px` : ''}.
          </p>

          <SegmentedControl
            label="Framing"
            options={[
              { value: 'crop', label: 'Face crop', hint: 'A square video of the aligned face.' },
              { value: 'paste', label: 'Paste back', hint: 'The edited face blended back into the full source frame.', disabled: pb !== null }
            ]}
            value={form.pasteBack ? 'paste' : 'crop'}
            onChange={(v) => set({ pasteBack: v === 'paste' })}
            data-testid="export-framing"
          />
          <p className="field-hint">{form.pasteBack ? 'The edited face is blended back into each full source frame with a feathered mask.' : (pb ?? 'A square video of the aligned face, as the editor shows it.')}</p>

          <label className={`checkbox${ab ? ' is-disabled' : ''}`}>
            <input type="checkbox" checked={form.audio} disabled={ab !== null} onChange={(e) => set({ audio: e.target.checked })} data-testid="export-audio" />
            <span>Include the source audio</span>
          </label>
          {ab && <p className="field-hint">{ab}</p>}

          <SegmentedControl
            label="Quality"
            options={EXPORT_QUALITIES.map((q) => ({ value: q, label: EXPORT_QUALITY_INFO[q].label, hint: EXPORT_QUALITY_INFO[q].summary }))}
            value={form.quality}
            onChange={(quality) => set({ quality })}
            data-testid="export-quality"
          />
          <p className="field-hint">{EXPORT_QUALITY_INFO[form.quality].summary}</p>

          <Field label="Output file" hint={form.out ? undefined : 'You choose the file when you press Export.'}>
            {(p) => (
              <div className="path-row">
                <input {...p} type="text" readOnly value={form.out ?? defaultExportPath(project)} className={form.out ? '' : 'is-suggestion'} title={form.out ?? undefined} data-testid="export-out" />
                <Button variant="secondary" icon={<FolderIcon width={16} height={16} />} onClick={() => void chooseOut()} data-testid="export-choose-out">
                  Choose…
                </Button>
              </div>
            )}
          </Field>
        </fieldset>

        <p className="dialog-summary">
          {dims.width} × {dims.height} · {project.fps} fps · {plural(project.encodedThrough, 'frame')}
          {form.audio ? ' · with audio' : ' · no audio'}
        </p>

        {invalid && phase === 'idle' && <InlineNotice kind="warning">{invalid}</InlineNotice>}
        {phase !== 'idle' && (
          <JobProgressBar job={job.state} label="Export progress" data-testid="export-progress" />
        )}
        {phase === 'done' && (
          <InlineNotice kind="success" data-testid="export-done">
            {job.state.message || 'Exported.'} {job.state.path ? `Saved as ${fileName(job.state.path)}.` : ''}
          </InlineNotice>
        )}
        {phase === 'failed' && (
          <InlineNotice kind="error" data-testid="export-error">
            {job.state.message || 'The export stopped without saying why.'} Your project and edits are unchanged.
          </InlineNotice>
        )}
        {phase === 'cancelled' && <InlineNotice kind="info">Export cancelled; no partial file is kept.</InlineNotice>}
        {showError && <InlineNotice kind="error">{showError}</InlineNotice>}
      </div>
      {confirmCancel && (
        <ConfirmDialog
          title="Cancel the export?"
          confirmLabel="Cancel export"
          cancelLabel="Keep exporting"
          danger
          onConfirm={() => {
            setConfirmCancel(false);
            void job.cancel().catch((e: unknown) => setShowError(errorMessage(e)));
          }}
          onCancel={() => setConfirmCancel(false)}
        >
          <p>The frames rendered so far are discarded. Your project and edits are unchanged.</p>
        </ConfirmDialog>
      )}
    </Modal>
  );
}
