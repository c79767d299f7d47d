import { useEffect, useState } from 'react';
import { fileName, type EncodeRequest } from '../../../shared/contract';
import { Button } from '../ui/Button';
import { formatDuration, formatLoss, plural } from '../ui/format';
import { ArrowLeftIcon, CheckIcon, ProjectIcon, RefreshIcon } from '../ui/icons';
import { CancelJobButton } from '../ui/JobStatus';
import { ProgressBar } from '../ui/ProgressBar';
import { InlineNotice } from '../ui/Toast';
import { ENCODE_STAGES, identitySeries, mergeLoss, stageLabel, stageStates, type EncodeRun } from './encodeRun';
import { LossPlot } from './LossPlot';
import { lossStats } from './plot';

export interface EncodeLiveProps {
  run: EncodeRun;
  request: EncodeRequest;
  /** Frames the encode covers (request.count, or what the video has left). */
  frameCount: number;
  onCancel(): void;
  onResume(): void;
  onOpen(): void;
  onBackToSettings(): void;
  /** When the job started, for the elapsed time (ms since epoch). */
  startedAt: number | null;
  /** Frame losses from before this run (the frames a resumed encode already had). */
  prior: readonly { frame: number; loss: number }[];
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

function StageList({ current, phase }: { current: string | null; phase: EncodeRun['job']['phase'] }) {
  const states = stageStates(current, phase);
  return (
    <ol className="stages" aria-label="Encode stages">
      {ENCODE_STAGES.map((s, i) => (
        <li key={s.id} className={`stage stage-${states[i]}`} aria-current={states[i] === 'active' ? 'step' : undefined}>
          <span className="stage-dot" aria-hidden="true">
            {states[i] === 'done' ? <CheckIcon width={12} height={12} /> : i + 1}
          </span>
          <span className="stage-label">{s.label}</span>
        </li>
      ))}
    </ol>
  );
}

export function EncodeLive({ run, request, frameCount, onCancel, onResume, onOpen, onBackToSettings, startedAt, prior }: EncodeLiveProps) {
  const { job } = run;
  const running = job.phase === 'running' || job.phase === 'starting';
  const now = useNow(running);
  const p = job.progress;
  const frameLoss = mergeLoss(prior, run.frameLoss);
  const stats = lossStats(frameLoss);
  const framesDone = frameLoss.length > 0 ? frameLoss[frameLoss.length - 1]!.frame + 1 : p?.stage === 'frames' && p.frame !== null ? p.frame : 0;
  const showIdentity = run.frameLoss.length === 0 && run.identityLoss.length > 0;
  const series = showIdentity ? identitySeries(run.identityLoss) : [{ label: 'Loss per frame', points: frameLoss.map((q) => ({ x: q.frame, y: q.loss })) }];
  const elapsed = startedAt ? (now - startedAt) / 1000 : null;
  const tone = job.phase === 'failed' ? 'error' : job.phase === 'done' ? 'done' : job.phase === 'cancelled' ? 'paused' : 'active';
  const fraction = job.phase === 'done' ? 1 : p ? p.fraction : job.phase === 'starting' ? null : 0;
  const detail =
    job.phase === 'done' ? 'Finished' : job.phase === 'cancelled' ? 'Cancelled — frames so far are saved' : job.phase === 'failed' ? 'Stopped by an error' : job.phase === 'starting' ? 'Starting' : p ? `${stageLabel(p.stage)} — ${p.message}` : 'Waiting for the encoder';

  return (
    <div className="encode-live">
      <section className="live-head panel" aria-labelledby="live-title">
        <div className="live-title-row">
          <div>
            <h2 id="live-title" className="live-title">
              {job.phase === 'done' ? 'Encode finished' : job.phase === 'cancelled' ? 'Encode cancelled' : job.phase === 'failed' ? 'Encode failed' : 'Encoding'}{' '}
              <span className="live-file">{fileName(request.video)}</span>
            </h2>
            <p className="live-sub" title={request.out}>
              into {fileName(request.out)} · {request.quality} quality · {plural(frameCount, 'frame')}
            </p>
          </div>
          <div className="live-actions">
            {running && (
              <CancelJobButton job={job} label="Cancel" onClick={onCancel} data-testid="encode-cancel" />
            )}
            {job.phase === 'cancelled' && (
              <>
                <Button variant="ghost" icon={<ArrowLeftIcon width={16} height={16} />} onClick={onBackToSettings}>
                  Settings
                </Button>
                <Button variant="primary" icon={<RefreshIcon width={16} height={16} />} onClick={onResume} data-testid="encode-resume">
                  Resume
                </Button>
              </>
            )}
            {job.phase === 'failed' && (
              <>
                <Button variant="ghost" icon={<ArrowLeftIcon width={16} height={16} />} onClick={onBackToSettings} data-testid="encode-back-to-settings">
                  Change settings
                </Button>
                <Button variant="primary" icon={<RefreshIcon width={16} height={16} />} onClick={onResume} data-testid="encode-retry">
                  Retry
                </Button>
              </>
            )}
            {job.phase === 'done' && (
              <Button variant="primary" size="large" icon={<ProjectIcon width={18} height={18} />} onClick={onOpen} data-testid="open-in-editor">
                Open in editor
              </Button>
            )}
          </div>
        </div>
        <ProgressBar value={fraction} label="Encode progress" etaSec={running ? (p?.etaSec ?? null) : null} detail={detail} tone={tone} data-testid="encode-progress" />
        <StageList current={p?.stage ?? null} phase={job.phase} />
        {job.phase === 'failed' && (
          <InlineNotice kind="error" data-testid="encode-error">
            {job.message || 'The encode stopped without saying why.'} Frames encoded before the error are kept in {fileName(request.out)}; Retry continues from there.
          </InlineNotice>
        )}
        {job.phase === 'cancelled' && <InlineNotice kind="info">{job.message || 'Cancelled.'} Resume continues from the last saved frame.</InlineNotice>}
        {job.phase === 'done' && job.message && (
          <InlineNotice kind="success">
            {job.message} Optional next step: the editor's Fine-tune… tunes the generator on these frames for more detail.
          </InlineNotice>
        )}
        <dl className="live-stats">
          <div>
            <dt>Frames encoded</dt>
            <dd data-testid="encode-frames-done">
              {framesDone} / {frameCount}
            </dd>
          </div>
          <div>
            <dt>Elapsed</dt>
            <dd>{elapsed === null ? '–' : formatDuration(elapsed)}</dd>
          </div>
          <div>
            <dt>Mean loss</dt>
            <dd>{stats.count ? formatLoss(stats.mean) : '–'}</dd>
          </div>
          <div>
            <dt>Worst frame</dt>
            <dd>{stats.worst ? `${stats.worst.frame} (${formatLoss(stats.worst.loss)})` : '–'}</dd>
          </div>
        </dl>
      </section>

      <div className="live-body">
        <section className="panel live-plot" aria-labelledby="plot-title">
          <header className="panel-header">
            <h2 id="plot-title">{showIdentity ? 'Identity loss' : 'Loss per frame'}</h2>
            <span className="panel-header-detail">{showIdentity ? 'per optimisation report; the refinement plots its own loss' : 'lower is closer to the source'}</span>
          </header>
          <div className="live-plot-body">
            <LossPlot
              series={series}
              xMax={showIdentity ? Math.max(10, run.identityLoss.length) : Math.max(1, frameCount - 1)}
              xLabel={showIdentity ? 'report' : 'frame'}
              marker={showIdentity ? null : request.identityFrame}
              summary={
                stats.count
                  ? `Loss of ${stats.count} encoded frames: mean ${formatLoss(stats.mean)}, worst frame ${stats.worst!.frame} at ${formatLoss(stats.worst!.loss)}`
                  : showIdentity
                    ? series.map((s) => `${s.label}: latest loss ${formatLoss(s.points[s.points.length - 1]!.y)}`).join('; ')
                    : 'No frame encoded yet'
              }
            />
          </div>
        </section>
        <section className="panel live-thumbs" aria-labelledby="thumbs-title">
          <header className="panel-header">
            <h2 id="thumbs-title">Latest frames</h2>
            <span className="panel-header-detail">source | re-render</span>
          </header>
          {run.thumbs.length === 0 ? (
            <p className="panel-message">
              {running ? 'The first frames appear after the identity is found; each pair shows the aligned source beside its re-render.' : 'No frame was encoded in this run.'}
            </p>
          ) : (
            <ul className="thumb-grid" data-testid="encode-thumbnails">
              {run.thumbs.map((t) => (
                <li key={t.frame} className="thumb-pair">
                  <div className="thumb-images">
                    <img src={t.source} alt={`Source, frame ${t.frame}`} />
                    <img src={t.render} alt={`Re-render, frame ${t.frame}`} />
                  </div>
                  <span className="thumb-caption">
                    <span>#{t.frame}</span>
                    <span>{formatLoss(t.loss)}</span>
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
