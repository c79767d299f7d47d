import { formatEta } from './format';
import { percentOf } from './numbers';

export interface ProgressBarProps {
  /** 0..1, or null while the amount of work is unknown (animated stripe). */
  value: number | null;
  /** The accessible name ("Encode progress"). */
  label: string;
  /** Seconds left; shown as "12 s left". */
  etaSec?: number | null;
  /** What is happening now, shown on the left above the bar. */
  detail?: string;
  /** 'error' and 'done' recolour the bar. */
  tone?: 'active' | 'done' | 'error' | 'paused';
  /** Hide the text line (the bar alone, e.g. in a status bar). */
  compact?: boolean;
  'data-testid'?: string;
}

/** A determinate progress bar with percentage and ETA; aria-valuenow is the whole percentage. */
export function ProgressBar({ value, label, etaSec, detail, tone = 'active', compact = false, ...rest }: ProgressBarProps) {
  const pct = percentOf(value);
  const eta = formatEta(etaSec);
  const text = [pct === null ? 'Working…' : `${pct}%`, detail, eta].filter(Boolean).join(' · ');
  return (
    <div className={`progress progress-${tone}${compact ? ' progress-compact' : ''}`}>
      {!compact && (
        <div className="progress-text">
          <span className="progress-detail">{detail}</span>
          <span className="progress-numbers">
            {eta && <span className="progress-eta">{eta}</span>}
            <strong>{pct === null ? '' : `${pct}%`}</strong>
          </span>
        </div>
      )}
      <div
        className={`progress-track${pct === null ? ' is-indeterminate' : ''}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct ?? undefined}
        aria-valuetext={text}
        data-testid={rest['data-testid']}
      >
        <div className="progress-fill" style={{ width: pct === null ? undefined : `${pct}%` }} />
      </div>
    </div>
  );
}
