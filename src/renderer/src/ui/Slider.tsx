import { useEffect, useId, useState } from 'react';
import { clampToStep, decimalsOf } from './numbers';

export interface SliderProps {
  label: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  /** Every change while dragging or typing. */
  onChange(value: number): void;
  /** Once when a drag ends or a typed value is committed (for undo steps and expensive work). */
  onCommit?(value: number): void;
  /** Shown after the number box ("×", "frames"). */
  unit?: string;
  /** Decimals in the number box; default from step. */
  decimals?: number;
  disabled?: boolean;
  /** Extra text under the slider. */
  hint?: string;
  /** Hide the visible label (it stays the accessible name). */
  hideLabel?: boolean;
  'data-testid'?: string;
}

/** A range slider paired with a number box; typing commits on Enter or blur, Escape restores. */
export function Slider({ label, value, min, max, step = 1, onChange, onCommit, unit, decimals, disabled, hint, hideLabel, ...rest }: SliderProps) {
  const id = useId();
  const places = decimals ?? decimalsOf(step);
  const [text, setText] = useState(value.toFixed(places));
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (!editing) setText(value.toFixed(places));
  }, [value, places, editing]);

  const commitText = () => {
    setEditing(false);
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) {
      setText(value.toFixed(places));
      return;
    }
    const v = clampToStep(n, min, max, step);
    setText(v.toFixed(places));
    if (v !== value) onChange(v);
    onCommit?.(v);
  };

  const testId = rest['data-testid'];
  return (
    <div className={`slider${disabled ? ' is-disabled' : ''}`}>
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : 'field-label'}>
        {label}
      </label>
      <div className="slider-row">
        <input
          id={id}
          type="range"
          min={min}
          max={max}
          step={step}
          value={value}
          disabled={disabled}
          onChange={(e) => onChange(Number(e.target.value))}
          onPointerUp={(e) => onCommit?.(Number((e.target as HTMLInputElement).value))}
          onKeyUp={(e) => onCommit?.(Number((e.target as HTMLInputElement).value))}
          style={{ ['--fill' as string]: `${max > min ? ((value - min) / (max - min)) * 100 : 0}%` }}
          data-testid={testId}
        />
        <input
          type="number"
          className="slider-number"
          aria-label={`${label} value`}
          min={min}
          max={max}
          step={step}
          value={text}
          disabled={disabled}
          onFocus={() => setEditing(true)}
          onChange={(e) => setText(e.target.value)}
          onBlur={commitText}
          onKeyDown={(e) => {
            if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
            if (e.key === 'Escape' && editing) {
              e.stopPropagation();
              setText(value.toFixed(places));
              setEditing(false);
            }
          }}
          data-testid={testId ? `${testId}-number` : undefined}
        />
        {unit && <span className="slider-unit">{unit}</span>}
      </div>
      {hint && <p className="field-hint">{hint}</p>}
    </div>
  );
}
