import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { formatSeconds } from '../ui/format';
import { framesToSeconds, secondsToFrames } from './encodeForm';

export interface FrameTimeInputProps {
  label: string;
  /** In frames. */
  value: number;
  fps: number;
  min: number;
  max: number;
  onChange(frames: number): void;
  error?: string | null;
  hint?: string;
  'data-testid'?: string;
}

/** One quantity typed in frames or in seconds; both boxes stay in step. Commits on Enter or blur. */
export function FrameTimeInput({ label, value, fps, min, max, onChange, error, hint, ...rest }: FrameTimeInputProps) {
  const id = useId();
  const [frames, setFrames] = useState(String(value));
  const [seconds, setSeconds] = useState(formatSeconds(framesToSeconds(value, fps)));
  useEffect(() => {
    setFrames(String(value));
    setSeconds(formatSeconds(framesToSeconds(value, fps)));
  }, [value, fps]);

  const commit = (n: number) => {
    if (!Number.isFinite(n)) {
      setFrames(String(value));
      setSeconds(formatSeconds(framesToSeconds(value, fps)));
      return;
    }
    const v = Math.min(max, Math.max(min, Math.round(n)));
    setFrames(String(v));
    setSeconds(formatSeconds(framesToSeconds(v, fps)));
    if (v !== value) onChange(v);
  };
  const onEnter = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') e.currentTarget.blur();
  };
  const noteId = `${id}-note`;
  const testId = rest['data-testid'];
  return (
    <div className={`field frame-time${error ? ' has-error' : ''}`}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <div className="frame-time-row">
        <div className="input-with-unit">
          <input
            id={id}
            type="number"
            inputMode="numeric"
            min={min}
            max={max}
            step={1}
            value={frames}
            onChange={(e) => setFrames(e.target.value)}
            onBlur={() => commit(frames.trim() === '' ? NaN : Number(frames))}
            onKeyDown={onEnter}
            aria-describedby={error || hint ? noteId : undefined}
            aria-invalid={error ? true : undefined}
            data-testid={testId}
          />
          <span className="unit">frames</span>
        </div>
        <div className="input-with-unit">
          <input
            type="number"
            inputMode="decimal"
            min={framesToSeconds(min, fps)}
            max={framesToSeconds(max, fps)}
            step="any"
            value={seconds}
            aria-label={`${label} in seconds`}
            onChange={(e) => setSeconds(e.target.value)}
            onBlur={() => commit(seconds.trim() === '' ? NaN : secondsToFrames(Number(seconds), fps))}
            onKeyDown={onEnter}
            data-testid={testId ? `${testId}-seconds` : undefined}
          />
          <span className="unit">s</span>
        </div>
      </div>
      {(error || hint) && (
        <p id={noteId} className={error ? 'field-error' : 'field-hint'}>
          {error || hint}
        </p>
      )}
    </div>
  );
}
