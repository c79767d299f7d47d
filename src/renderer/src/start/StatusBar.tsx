import type { AppInfo, JobProgress, ModelSummary } from '../../../shared/contract';
import { ChipIcon } from '../ui/icons';
import { formatEta } from '../ui/format';
import type { Loadable } from './loadable';

interface StatusBarProps {
  info: Loadable<AppInfo>;
  models: Loadable<ModelSummary[]>;
  job: JobProgress | null;
}

function ModelsStatus({ models, modelsDir }: { models: Loadable<ModelSummary[]>; modelsDir: string | null }) {
  if (models.state === 'loading') return <span className="status-item">Looking for model bundles…</span>;
  if (models.state === 'error') {
    return (
      <span className="status-item is-error" title={models.message}>
        <span className="dot dot-error" aria-hidden="true" />
        Model bundles could not be read: {models.message}
      </span>
    );
  }
  const list = models.value;
  if (list.length === 0) {
    return (
      <span className="status-item is-warning" title={modelsDir ?? undefined}>
        <span className="dot dot-warning" aria-hidden="true" />
        No model bundles found{modelsDir ? ` in ${modelsDir}` : ''}. Run “npm run bootstrap” or set STYLECAST_MODELS_DIR.
      </span>
    );
  }
  const names = list.map((m) => `${m.name} (${m.resolution}px)`).join(', ');
  return (
    <span className="status-item" title={list.map((m) => m.path).join('\n')}>
      <span className="dot dot-ok" aria-hidden="true" />
      {list.length === 1 ? '1 model bundle' : `${list.length} model bundles`}
      <span className="status-detail">{names}</span>
    </span>
  );
}

export function StatusBar({ info, models, job }: StatusBarProps) {
  const ready = info.state === 'ready' ? info.value : null;
  return (
    <footer className="statusbar" aria-label="Status">
      <ModelsStatus models={models} modelsDir={ready?.modelsDir ?? null} />
      {job && (
        <span className="status-item status-job" role="status">
          <span className="job-label">
            {job.stage}
            {job.message ? ` · ${job.message}` : ''}
          </span>
          <progress max={1} value={job.fraction} aria-label={`${job.stage} progress`} />
          <span className="status-detail">
            {Math.round(job.fraction * 100)}%{job.etaSec !== null ? ` · ${formatEta(job.etaSec)}` : ''}
          </span>
        </span>
      )}
      <span className="status-spacer" />
      {info.state === 'error' && <span className="status-item is-error">App info unavailable: {info.message}</span>}
      {ready && (
        <>
          <span className="status-item" title={ready.device === 'cuda' ? 'Running on the GPU through the CUDA provider' : 'Running on the CPU'}>
            <ChipIcon width={14} height={14} />
            Device <strong>{ready.device.toUpperCase()}</strong>
          </span>
          <span className="status-item status-detail">
            v{ready.version} · {ready.platform}
          </span>
        </>
      )}
    </footer>
  );
}
