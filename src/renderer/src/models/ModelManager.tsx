import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppInfo, ModelCatalog, ModelInfo, ModelSummary, StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import type { Loadable } from '../start/loadable';
import { Button } from '../ui/Button';
import { formatBytes } from '../ui/format';
import { ChipIcon, CubeIcon, RefreshIcon, TerminalIcon, UploadIcon } from '../ui/icons';
import { isActive } from '../ui/jobState';
import { Modal } from '../ui/Modal';
import { InlineNotice } from '../ui/Toast';
import { useJob } from '../ui/useJob';
import { CataloguePanel, ModelJobPanel, type ModelJobLabel } from './ModelJobs';
import { CREATE_COMMAND, DOWNLOAD_COMMAND, IMPORT_COMMAND, POSE_METHOD_TEXT, POSE_UNIT_TEXT, REGION_METHOD_TEXT, bundleFolder, groupAttributes, loadCatalog, localisationLabel } from './modelView';
import './models.css';

export interface ModelManagerProps {
  api: StylecastApi;
  info: Loadable<AppInfo>;
  models: Loadable<ModelSummary[]>;
  /** Reads the bundle list again (after an import, a download or a removal). */
  onRefresh(): void;
}

function CommandLine({ command }: { command: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="command-line">
      <code>{command}</code>
      <Button
        size="small"
        variant="ghost"
        onClick={() =>
          void navigator.clipboard?.writeText(command).then(
            () => setCopied(true),
            () => setCopied(false)
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </Button>
    </div>
  );
}

function ImportHelp({ modelsDir, onClose }: { modelsDir: string | null; onClose(): void }) {
  return (
    <Modal title="Models from the command line" onClose={onClose} width={620} footer={<Button variant="primary" onClick={onClose}>Close</Button>} data-testid="import-help">
      <div className="prose">
        <p>
          The same import and download as in this view, from a terminal in the Stylecast Studio folder (for scripts, or a machine without the studio). Press <strong>Refresh</strong> here afterwards.
        </p>
        <h3>Import a StyleGAN2 checkpoint you have</h3>
        <p>Official StyleGAN2-ADA pickles (.pkl), original TensorFlow StyleGAN2 pickles (.pkl) and rosinality-style PyTorch files (.pt) are converted into a bundle and calibrated.</p>
        <CommandLine command={IMPORT_COMMAND} />
        <h3>Download a published model</h3>
        <p>Downloads are checked against their published checksums; without a connection the command says so and changes nothing.</p>
        <CommandLine command={DOWNLOAD_COMMAND} />
        <h3>Create the small seeded model</h3>
        <p>A 64 px generator with random weights, for trying the app and for tests.</p>
        <CommandLine command={CREATE_COMMAND} />
        {modelsDir && (
          <p className="field-hint">
            Bundles are read from <code>{modelsDir}</code> (set STYLECAST_MODELS_DIR to use another folder).
          </p>
        )}
      </div>
    </Modal>
  );
}

function ModelDetails({ info }: { info: ModelInfo }) {
  const groups = groupAttributes(info.attributes);
  return (
    <div className="model-details" data-testid="model-details">
      <dl className="facts facts-wide">
        <div>
          <dt>Resolution</dt>
          <dd>{info.resolution} px</dd>
        </div>
        <div>
          <dt>Render sizes</dt>
          <dd>{info.sizes.join(', ')} px</dd>
        </div>
        <div>
          <dt>Calibration</dt>
          <dd>{info.calibrated ? <span className="badge badge-ok">Calibrated</span> : <span className="badge badge-warning">Not calibrated</span>}</dd>
        </div>
        <div>
          <dt>On disk</dt>
          <dd>{formatBytes(info.bytes)}</dd>
        </div>
      </dl>
      <dl className="model-methods">
        <div>
          <dt>Pose unit</dt>
          <dd>{info.poseUnit ? POSE_UNIT_TEXT[info.poseUnit] : 'not calibrated'}</dd>
        </div>
        <div>
          <dt>Pose found by</dt>
          <dd>{info.poseMethod ? POSE_METHOD_TEXT[info.poseMethod] : '–'}</dd>
        </div>
        <div>
          <dt>Regions found by</dt>
          <dd>{info.regionMethod ? REGION_METHOD_TEXT[info.regionMethod] : '–'}</dd>
        </div>
        <div>
          <dt>Folder</dt>
          <dd className="mono" title={info.path}>
            {info.path}
          </dd>
        </div>
      </dl>
      {groups.length === 0 ? (
        <InlineNotice kind="warning">This bundle has no calibrated channels, so the editor shows numbered tracks. Calibrate it with “npx stylecast calibrate”.</InlineNotice>
      ) : (
        <div className="channel-groups">
          <p className="field-hint">
            {info.attributes.length} channels. <strong>Sigma</strong>: the size of one track unit in style space (bar relative to the largest). <strong>Localisation</strong>: how much of the image change stays inside the region.
          </p>
          {groups.map((g) => (
            <section key={g.group} className="channel-group" aria-label={g.label}>
              <h3>
                {g.label} <span className="count">{g.attributes.length}</span>
              </h3>
              <table className="channel-table">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Track</th>
                    <th scope="col">Sigma</th>
                    <th scope="col">Localisation</th>
                  </tr>
                </thead>
                <tbody>
                  {g.attributes.map((a) => (
                    <tr key={a.index}>
                      <td className="mono">{a.index}</td>
                      <td>{a.name}</td>
                      <td>
                        <span className="bar-cell">
                          <span className="bar" aria-hidden="true">
                            <span style={{ width: `${a.sigmaShare * 100}%` }} />
                          </span>
                          <span className="mono">{a.sigma.toFixed(3)}</span>
                        </span>
                      </td>
                      <td>
                        <span className="bar-cell">
                          <span className={`bar bar-${localisationLabel(a.localisation).replace(' ', '-')}`} aria-hidden="true">
                            <span style={{ width: `${a.localisation * 100}%` }} />
                          </span>
                          <span className="mono">{Math.round(a.localisation * 100)}%</span>
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ))}
        </div>
      )}
    </div>
  );
}

/** The bundles present, their calibration, and the device the engine runs on. */
export function ModelManager({ api, info, models, onRefresh }: ModelManagerProps) {
  const [selected, setSelected] = useState<string | null>(null);
  const [details, setDetails] = useState<Loadable<ModelInfo> | null>(null);
  const [importHelp, setImportHelp] = useState(false);
  const job = useJob(api, 'model');
  const [jobLabel, setJobLabel] = useState<ModelJobLabel | null>(null);
  const [catalogVersion, setCatalogVersion] = useState(0);
  const [catalog, setCatalog] = useState<Loadable<ModelCatalog>>({ state: 'loading' });
  const protectedPaths = catalog.state === 'ready' ? catalog.value.protectedPaths : [];
  const [removeError, setRemoveError] = useState<string | null>(null);
  const busy = isActive(job.state);

  // After a model job ends, the bundles and the catalogue are read again.
  const ended = job.state.phase === 'done' || job.state.phase === 'failed' || job.state.phase === 'cancelled';
  const refreshedFor = useRef<string | null>(null);
  useEffect(() => {
    if (!ended || !job.state.jobId || refreshedFor.current === job.state.jobId) return;
    refreshedFor.current = job.state.jobId;
    onRefresh();
    setCatalogVersion((v) => v + 1);
  }, [ended, job.state.jobId, onRefresh]);

  // One read per refresh serves both the catalogue panel and the Remove buttons.
  useEffect(() => loadCatalog(api, setCatalog, errorMessage), [api, catalogVersion]);

  const startImport = async () => {
    let path: string | null;
    try {
      path = await api.invoke('dialog:openCheckpoint');
    } catch (e) {
      setJobLabel({ kind: 'import', file: 'checkpoint' });
      await job.start(() => Promise.reject(e));
      return;
    }
    if (!path) return;
    setJobLabel({ kind: 'import', file: path });
    await job.start(() => api.invoke('models:import', { path: path! }));
  };

  const startDownload = (name: string) => {
    setJobLabel({ kind: 'download', name });
    void job.start(() => api.invoke('models:download', { name }));
  };

  // Main asks the user in a native dialog before deleting anything (the page's word is not enough).
  const confirmRemove = async (m: ModelSummary) => {
    setRemoveError(null);
    try {
      await api.invoke('models:remove', { name: bundleFolder(m.path) });
      if (selected === m.path) setSelected(null);
    } catch (e) {
      setRemoveError(errorMessage(e));
    }
    onRefresh();
    setCatalogVersion((v) => v + 1);
  };
  /** Refresh reads the catalogue again too: a command-line download changes its Installed badges. */
  const refreshAll = useCallback(() => {
    onRefresh();
    setCatalogVersion((v) => v + 1);
  }, [onRefresh]);
  const list = models.state === 'ready' ? models.value : [];
  const current = selected && list.some((m) => m.path === selected) ? selected : (list[0]?.path ?? null);

  const load = useCallback(
    (path: string) => {
      let live = true;
      setDetails({ state: 'loading' });
      api.invoke('models:info', { path }).then(
        (value) => live && setDetails({ state: 'ready', value }),
        (e: unknown) => live && setDetails({ state: 'error', message: errorMessage(e) })
      );
      return () => {
        live = false;
      };
    },
    [api]
  );
  useEffect(() => (current ? load(current) : setDetails(null)), [current, load]);

  const app = info.state === 'ready' ? info.value : null;
  return (
    <div className="models-screen">
      <aside className="panel models-list" aria-labelledby="bundles-title">
        <header className="panel-header">
          <h2 id="bundles-title">Model bundles</h2>
          {list.length > 0 && <span className="count">{list.length}</span>}
        </header>
        {models.state === 'loading' && <p className="panel-message">Looking for model bundles…</p>}
        {models.state === 'error' && (
          <p className="panel-message is-error" role="alert">
            The bundles could not be read: {models.message}
          </p>
        )}
        {models.state === 'ready' && list.length === 0 && (
          <div className="empty">
            <CubeIcon width={28} height={28} className="empty-icon" />
            <p className="empty-title">No model bundle yet</p>
            <p className="empty-text">Create the small seeded model to try the app, or import a real checkpoint.</p>
          </div>
        )}
        <ul className="bundle-list" aria-label="Model bundles">
          {list.map((m) => (
            <li key={m.path}>
              <button type="button" className={`bundle-item${m.path === current ? ' is-selected' : ''}`} onClick={() => setSelected(m.path)} title={m.path} aria-current={m.path === current ? 'true' : undefined}>
                <span className="recent-icon">
                  <CubeIcon width={18} height={18} />
                </span>
                <span className="recent-text">
                  <span className="recent-name">{m.name}</span>
                  <span className="recent-path">
                    {m.resolution} px · {m.id}
                  </span>
                </span>
              </button>
            </li>
          ))}
        </ul>
        <footer className="models-list-footer">
          <Button variant="primary" icon={<UploadIcon width={16} height={16} />} onClick={() => void startImport()} disabled={busy} data-testid="models-import" title="Import a StyleGAN2 checkpoint (.pkl, .pt or .pth) into a new bundle">
            Import checkpoint…
          </Button>
          <Button variant="ghost" icon={<RefreshIcon width={16} height={16} />} onClick={refreshAll} data-testid="models-refresh">
            Refresh
          </Button>
          <Button variant="ghost" icon={<TerminalIcon width={16} height={16} />} onClick={() => setImportHelp(true)} data-testid="models-cli-help">
            Command line…
          </Button>
        </footer>
      </aside>

      <section className="models-main" aria-label="Selected bundle and device">
        <div className="panel device-card">
          <span className="device-icon">
            <ChipIcon width={22} height={22} />
          </span>
          <div>
            <p className="device-title">
              Device: <strong data-testid="models-device">{app ? (app.device === 'cuda' ? 'NVIDIA GPU (CUDA)' : 'CPU') : info.state === 'error' ? 'unknown' : '…'}</strong>
            </p>
            <p className="field-hint">
              {app?.device === 'cuda'
                ? 'Encoding, previews and export run on the GPU through ONNX Runtime’s CUDA provider.'
                : 'Encoding, previews and export run on the CPU. With an NVIDIA GPU, install ONNX Runtime’s CUDA build (ONNXRUNTIME_NODE_INSTALL=cuda12 npm install) and restart.'}
              {info.state === 'error' ? ` App info could not be read: ${info.message}` : ''}
            </p>
          </div>
        </div>
        {jobLabel && job.state.phase !== 'idle' && (
          <ModelJobPanel
            job={job}
            label={jobLabel}
            onDismiss={() => {
              job.reset();
              setJobLabel(null);
            }}
          />
        )}
        {removeError && (
          <InlineNotice kind="error" data-testid="models-remove-error">
            {removeError}
          </InlineNotice>
        )}
        <CataloguePanel catalog={catalog} busy={busy} onDownload={startDownload} />
        <div className="panel model-panel">
          {details === null ? (
            <p className="panel-message">Select a bundle to see its calibration.</p>
          ) : details.state === 'loading' ? (
            <p className="panel-message">Reading the bundle…</p>
          ) : details.state === 'error' ? (
            <p className="panel-message is-error" role="alert">
              This bundle could not be read: {details.message}
            </p>
          ) : (
            <>
              <header className="panel-header">
                <h2>{details.value.name}</h2>
                <span className="panel-header-detail mono">{details.value.id}</span>
                {(() => {
                  const m = list.find((x) => x.path === details.value.path);
                  if (!m || protectedPaths.includes(m.path)) return null;
                  return (
                    <Button size="small" variant="ghost" className="model-remove" disabled={busy} onClick={() => void confirmRemove(m)} data-testid={`models-remove-${bundleFolder(m.path)}`}>
                      Remove…
                    </Button>
                  );
                })()}
              </header>
              <ModelDetails info={details.value} />
            </>
          )}
        </div>
      </section>
      {importHelp && <ImportHelp modelsDir={app?.modelsDir ?? null} onClose={() => setImportHelp(false)} />}
    </div>
  );
}
