// Import, download and the catalogue in the model manager: one model job at a time,
// tracked through job:progress / job:done of kind 'model' (useJob).
import type { ModelCatalog } from '../../../shared/contract';
import type { Loadable } from '../start/loadable';
import { Button } from '../ui/Button';
import { formatBytes } from '../ui/format';
import { CancelJobButton, JobProgressBar } from '../ui/JobStatus';
import type { JobControls } from '../ui/useJob';
import { isActive } from '../ui/jobState';
import { InlineNotice } from '../ui/Toast';
import { catalogStatus, jobTitle, offlineHint } from './modelView';

export type ModelJobLabel = { kind: 'import'; file: string } | { kind: 'download'; name: string };

/** The running or last model job: its progress bar, Cancel while it runs, its result or error. */
export function ModelJobPanel({ job, label, onDismiss }: { job: JobControls; label: ModelJobLabel; onDismiss(): void }) {
  const s = job.state;
  const running = isActive(s);
  const hint = s.phase === 'failed' ? offlineHint(s.message) : null;
  return (
    <div className="panel model-job" aria-label="Model job" data-testid="model-job">
      <header className="panel-header">
        <h2>{jobTitle(label)}</h2>
        <span className="model-job-actions">
          {running ? (
            <CancelJobButton job={s} label="Cancel" onClick={() => void job.cancel()} data-testid="model-job-cancel" />
          ) : (
            <Button size="small" variant="ghost" onClick={onDismiss} data-testid="model-job-dismiss">
              Dismiss
            </Button>
          )}
        </span>
      </header>
      <div className="model-job-body">
        <JobProgressBar job={s} label={jobTitle(label)} data-testid="model-job-progress" />
        {s.phase === 'done' && <InlineNotice kind="success">{s.message}</InlineNotice>}
        {s.phase === 'cancelled' && <InlineNotice kind="info">{s.message}</InlineNotice>}
        {s.phase === 'failed' && (
          <InlineNotice kind="error" data-testid="model-job-error">
            {s.message}
            {hint && <span className="model-job-hint"> {hint}</span>}
          </InlineNotice>
        )}
      </div>
    </div>
  );
}

/** The catalogue: what can be downloaded, with its size, licence and whether it is here. */
export function CataloguePanel({
  catalog,
  busy,
  onDownload
}: {
  /** Read by the model manager (loadCatalog), which also needs its protected paths. */
  catalog: Loadable<ModelCatalog>;
  /** A model job runs: downloads wait for it. */
  busy: boolean;
  onDownload(name: string): void;
}) {
  return (
    <div className="panel model-catalogue" aria-labelledby="catalogue-title">
      <header className="panel-header">
        <h2 id="catalogue-title">Catalogue</h2>
        {catalog.state === 'ready' && <span className="count">{catalog.value.entries.length}</span>}
      </header>
      {catalog.state === 'loading' && <p className="panel-message">Reading the catalogue…</p>}
      {catalog.state === 'error' && (
        <p className="panel-message is-error" role="alert">
          The catalogue could not be read: {catalog.message}
        </p>
      )}
      {catalog.state === 'ready' && (
        <ul className="catalogue-list" aria-label="Downloadable models">
          {catalog.value.entries.map((e) => {
            const status = catalogStatus(e);
            return (
              <li key={e.name} className="catalogue-item" data-testid={`catalogue-${e.name}`}>
                <div className="catalogue-text">
                  <p className="catalogue-name">
                    {e.name} {e.installed ? <span className="badge badge-ok">Installed</span> : e.partial ? <span className="badge badge-warning">Partly downloaded</span> : null}
                  </p>
                  <p className="field-hint">{e.purpose}</p>
                  <p className="catalogue-meta">
                    <span>{e.bytes === null ? 'size not published' : formatBytes(e.bytes)}</span>
                    <span title={e.licence}>{e.licence}</span>
                    {status && <span>{status}</span>}
                  </p>
                </div>
                {!e.installed && (
                  <Button size="small" variant="secondary" disabled={busy} onClick={() => onDownload(e.name)} data-testid={`models-download-${e.name}`} title={`Download from ${e.url}`}>
                    {e.partial ? 'Resume' : 'Download'}
                  </Button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
