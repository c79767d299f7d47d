// The optional Fine-tune step after encoding: the cost first (timed on this machine), then
// the tuning job with progress, ETA and cancel (a cancelled run keeps its checkpoint and the
// next start with the same settings resumes it), then the report of the tuned project.
import { useEffect, useRef, useState } from 'react';
import { MAX_TUNE_STEPS, type ProjectSummary, type StylecastApi, type TuneEstimate } from '../../../shared/contract';
import { errorMessage } from '../api';
import { Button, ConfirmDialog, Field, InlineNotice, Modal, plural } from '../ui';
import { CancelJobButton, JobProgressBar } from '../ui/JobStatus';
import { useJob } from '../ui/useJob';
import { estimateText, initialTuneForm, toTuneRequest, tuneReportText, validateTune, type TuneForm } from './tuneForm';

export interface TuneDialogProps {
  api: StylecastApi;
  project: ProjectSummary;
  onClose(): void;
  /** The job finished: the caller reopens the project so the editor renders the new delta. */
  onTuned(): void;
}

export function TuneDialog({ api, project, onClose, onTuned }: TuneDialogProps) {
  const [form, setForm] = useState<TuneForm>(initialTuneForm);
  const [estimate, setEstimate] = useState<{ rank: number; value: TuneEstimate } | null>(null);
  const [estimateError, setEstimateError] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const job = useJob(api, 'tune');
  const { phase } = job.state;
  const running = phase === 'starting' || phase === 'running';

  // The estimate times a real step at this rank (steps only multiply it), once per rank.
  const { rank } = form;
  useEffect(() => {
    if (!Number.isInteger(rank) || rank < 1) return;
    let live = true;
    setEstimateError(null);
    const t = setTimeout(() => {
      api.invoke('tune:estimate', { project: project.path, rank }).then(
        (value) => live && setEstimate({ rank, value }),
        (e: unknown) => live && setEstimateError(errorMessage(e))
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [api, project.path, rank]);

  const tunedOnce = useRef(false);
  useEffect(() => {
    if (phase === 'done' && !tunedOnce.current) {
      tunedOnce.current = true;
      onTuned();
    }
  }, [phase, onTuned]);

  const current = estimate && estimate.rank === rank ? estimate.value : null;
  const invalid = validateTune(project, form, estimate?.value ?? null);
  const set = (patch: Partial<TuneForm>) => setForm((f) => ({ ...f, ...patch }));
  const start = () => {
    tunedOnce.current = false;
    void job.start(() => api.invoke('tune:start', toTuneRequest(project, form)));
  };

  const footer =
    phase === 'done' ? (
      <Button variant="primary" onClick={onClose} data-testid="tune-close">
        Done
      </Button>
    ) : running ? (
      <CancelJobButton job={job.state} label="Cancel fine-tune" onClick={() => setConfirmCancel(true)} data-testid="tune-cancel" />
    ) : (
      <>
        <Button variant="ghost" onClick={onClose} data-testid="tune-dismiss">
          Close
        </Button>
        <Button variant="primary" onClick={start} disabled={invalid !== null || estimateError !== null} data-testid="tune-start">
          {phase === 'cancelled' || project.tuneCheckpoint ? 'Resume fine-tune' : project.tune ? 'Fine-tune again' : 'Fine-tune'}
        </Button>
      </>
    );

  return (
    <Modal
      title="Fine-tune the generator"
      subtitle={`${project.name} · ${plural(project.encodedThrough, 'encoded frame')}`}
      onClose={() => (running ? setConfirmCancel(true) : onClose())}
      footer={footer}
      width={600}
      data-testid="tune-dialog"
    >
      <div className="dialog-form" aria-busy={running}>
        <p className="field-hint">
          Optional, after encoding: tunes the synthesis network on this project's frames (the encoding stays as it is) and stores a small low-rank delta in the project, so
          teeth, skin and hair come closer to the source. Every 4th frame is held out and only measured. The viewer's Before / After (B) compares the two.
        </p>
        {project.tune && (
          <InlineNotice kind={project.tune.ignored ? 'warning' : 'info'} data-testid="tune-current">
            {project.tune.ignored ? `The project's delta is not used: ${project.tune.ignored}` : `Tuned: ${tuneReportText(project.tune)}.`}
          </InlineNotice>
        )}
        <fieldset className="fieldset" disabled={running || phase === 'done'}>
          <Field label="Steps" hint="More steps fit the frames more closely and take longer (default 600).">
            {(p) => <input {...p} type="number" min={1} max={MAX_TUNE_STEPS} step={1} value={form.steps} onChange={(e) => set({ steps: Number(e.target.value) })} data-testid="tune-steps" />}
          </Field>
          <Field label="Rank" hint={`Capacity of the delta (default 8)${current ? `; at most ${current.maxRank} for this model` : ''}.`}>
            {(p) => <input {...p} type="number" min={1} max={current?.maxRank ?? 64} step={1} value={form.rank} onChange={(e) => set({ rank: Number(e.target.value) })} data-testid="tune-rank" />}
          </Field>
        </fieldset>

        <p className="dialog-summary" data-testid="tune-estimate">
          {estimateError ? '' : current ? estimateText(current, form.steps) : 'Timing one tuning step on this machine…'}
        </p>
        {estimateError && <InlineNotice kind="error">{estimateError}</InlineNotice>}
        {project.tuneCheckpoint && phase === 'idle' && (
          <InlineNotice kind="info">A cancelled fine-tune left a checkpoint: starting with the same steps and rank resumes it.</InlineNotice>
        )}
        {invalid && phase === 'idle' && <InlineNotice kind="warning">{invalid}</InlineNotice>}
        {phase !== 'idle' && <JobProgressBar job={job.state} label="Fine-tune progress" data-testid="tune-progress" />}
        {phase === 'done' && (
          <InlineNotice kind="success" data-testid="tune-done">
            {job.state.message}
          </InlineNotice>
        )}
        {phase === 'failed' && <InlineNotice kind="error">{job.state.message || 'The fine-tune stopped without saying why.'} The project is unchanged.</InlineNotice>}
        {phase === 'cancelled' && (
          <InlineNotice kind="info">Fine-tune cancelled. Its checkpoint is kept: fine-tune again with the same steps and rank to resume where it stopped.</InlineNotice>
        )}
      </div>
      {confirmCancel && (
        <ConfirmDialog
          title="Cancel the fine-tune?"
          confirmLabel="Cancel fine-tune"
          cancelLabel="Keep tuning"
          danger
          onConfirm={() => {
            setConfirmCancel(false);
            void job.cancel().catch((e: unknown) => setEstimateError(errorMessage(e)));
          }}
          onCancel={() => setConfirmCancel(false)}
        >
          <p>The steps done so far are kept as a checkpoint; starting again with the same settings resumes from it. The project keeps its current delta, if any.</p>
        </ConfirmDialog>
      )}
    </Modal>
  );
}
