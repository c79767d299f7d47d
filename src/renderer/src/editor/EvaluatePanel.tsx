// The Evaluate panel: the project's per-frame plots, drawn by the same code as eval.png
// (PSNR, SSIM, LPIPS, AKD, identity and jitter from `stylecast eval`, and the encoder's loss).
import { useEffect, useState } from 'react';
import type { InvokeResponse, StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import { InlineNotice, Modal } from '../ui';

export interface EvaluatePanelProps {
  api: StylecastApi;
  project: string;
  onClose(): void;
}

export function EvaluatePanel({ api, project, onClose }: EvaluatePanelProps) {
  const [plot, setPlot] = useState<InvokeResponse<'project:evaluation'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.invoke('project:evaluation', { project }).then(
      (r) => live && setPlot(r),
      (e) => live && setError(errorMessage(e))
    );
    return () => {
      live = false;
    };
  }, [api, project]);
  return (
    <Modal title="Evaluate" subtitle="Per-frame quality of the re-render against the source" onClose={onClose} width={1040} data-testid="evaluate-panel">
      {error && <InlineNotice kind="error">{error}</InlineNotice>}
      {plot && !plot.evaluated && (
        <InlineNotice kind="info">
          This project has not been evaluated yet: the plot shows the encoder's loss per frame. Run <code>stylecast eval {project}</code> for PSNR, SSIM,
          identity and jitter, then open this panel again.
        </InlineNotice>
      )}
      {plot && <img className="evaluate-plot" src={plot.image} width={plot.width} height={plot.height} style={{ maxWidth: '100%', height: 'auto' }} alt="Per-frame plots of the project" data-testid="evaluate-plot" data-evaluated={plot.evaluated} />}
      {!plot && !error && <p>Drawing the plots…</p>}
    </Modal>
  );
}
