// The Evaluate panel: the project's per-frame plots, drawn by the same code as eval.png
// (PSNR, SSIM, LPIPS, AKD, identity and jitter, and the encoder's loss), and the evaluation
// itself (`stylecast eval`'s, run by main as a job with progress and cancel).
import { useEffect, useState } from 'react';
import type { InvokeResponse, StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import { Button, InlineNotice, Modal } from '../ui';
import { CancelJobButton, JobProgressBar } from '../ui/JobStatus';
import { useJob } from '../ui/useJob';
import { evaluationView } from './evaluation';

export interface EvaluatePanelProps {
  api: StylecastApi;
  project: string;
  onClose(): void;
}

export function EvaluatePanel({ api, project, onClose }: EvaluatePanelProps) {
  const [plot, setPlot] = useState<InvokeResponse<'project:evaluation'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(api, 'evaluate');
  // Drawn again each time an evaluation has written a new eval.json.
  const [revision, setRevision] = useState(0);
  const finished = job.state.phase === 'done';
  useEffect(() => {
    if (finished) setRevision((r) => r + 1);
  }, [finished]);
  useEffect(() => {
    let live = true;
    api.invoke('project:evaluation', { project }).then(
      (r) => {
        if (!live) return;
        setPlot(r);
        setError(null);
      },
      (e) => live && setError(errorMessage(e))
    );
    return () => {
      live = false;
    };
  }, [api, project, revision]);
  const view = evaluationView(plot, job.state);
  const { cancel } = job;
  const close = () => {
    // Leaving the panel stops its evaluation: nothing would show the result.
    if (view.action.kind === 'cancel') void cancel();
    onClose();
  };
  const footer =
    view.action.kind === 'cancel' ? (
      <CancelJobButton job={job.state} label="Stop evaluation" onClick={() => void cancel()} data-testid="evaluate-cancel" />
    ) : (
      <Button variant="primary" onClick={() => void job.start(() => api.invoke('evaluate:start', { project }))} data-testid="evaluate-run">
        {view.action.label}
      </Button>
    );
  return (
    <Modal title="Evaluate" subtitle="Per-frame quality of the re-render against the source" onClose={close} footer={footer} width={1040} data-testid="evaluate-panel">
      {error && <InlineNotice kind="error">{error}</InlineNotice>}
      {view.notice && <InlineNotice kind={view.notice.kind} data-testid="evaluate-notice">{view.notice.text}</InlineNotice>}
      {view.showProgress && <JobProgressBar job={job.state} label="Evaluation" data-testid="evaluate-progress" />}
      {plot && <img className="evaluate-plot" src={plot.image} width={plot.width} height={plot.height} style={{ maxWidth: '100%', height: 'auto' }} alt="Per-frame plots of the project" data-testid="evaluate-plot" data-evaluated={plot.evaluated} />}
      {!plot && !error && <p>Drawing the plots…</p>}
    </Modal>
  );
}
