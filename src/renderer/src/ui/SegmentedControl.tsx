import { useId, useRef, type KeyboardEvent } from 'react';

export interface SegmentOption<T extends string> {
  value: T;
  label: string;
  /** Shown as the tooltip and read as the description. */
  hint?: string;
  disabled?: boolean;
}

export interface SegmentedControlProps<T extends string> {
  /** The accessible name of the group. */
  label: string;
  options: readonly SegmentOption<T>[];
  value: T;
  onChange(value: T): void;
  /** Hide the visible label. */
  hideLabel?: boolean;
  disabled?: boolean;
  'data-testid'?: string;
}

/** A radio group drawn as joined buttons; arrow keys move the choice (WAI-ARIA radio group). */
export function SegmentedControl<T extends string>({ label, options, value, onChange, hideLabel, disabled, ...rest }: SegmentedControlProps<T>) {
  const labelId = useId();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const enabled = options.map((o, i) => (o.disabled || disabled ? -1 : i)).filter((i) => i >= 0);

  const onKeyDown = (e: KeyboardEvent, index: number) => {
    const dir = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
    if (dir === 0 || enabled.length === 0) return;
    e.preventDefault();
    const at = enabled.indexOf(index);
    const next = enabled[(at + dir + enabled.length) % enabled.length]!;
    onChange(options[next]!.value);
    refs.current[next]?.focus();
  };

  const testId = rest['data-testid'];
  return (
    <div className="segmented-field">
      <span id={labelId} className={hideLabel ? 'visually-hidden' : 'field-label'}>
        {label}
      </span>
      <div className="segmented" role="radiogroup" aria-labelledby={labelId} data-testid={testId}>
        {options.map((o, i) => {
          const checked = o.value === value;
          return (
            <button
              key={o.value}
              ref={(el) => {
                refs.current[i] = el;
              }}
              type="button"
              role="radio"
              aria-checked={checked}
              tabIndex={checked ? 0 : -1}
              disabled={o.disabled || disabled}
              title={o.hint}
              className={`segment${checked ? ' is-checked' : ''}`}
              onClick={() => onChange(o.value)}
              onKeyDown={(e) => onKeyDown(e, i)}
              data-testid={testId ? `${testId}-${o.value}` : undefined}
            >
              {o.label}
            </button>
          );
        })}
      </div>
    </div>
  );
}
