import { useId, type ReactElement, type ReactNode } from 'react';

export interface FieldProps {
  label: string;
  /** Help under the control. */
  hint?: ReactNode;
  /** Replaces the hint in red and marks the control invalid. */
  error?: string | null;
  /** Render-prop: spread the props onto the control so label, hint and error are linked to it. */
  children: (control: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactElement;
  className?: string;
}

/** A labelled form control with its hint or error. */
export function Field({ label, hint, error, children, className }: FieldProps) {
  const id = useId();
  const noteId = `${id}-note`;
  const note = error || hint;
  return (
    <div className={`field${error ? ' has-error' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {children({ id, 'aria-describedby': note ? noteId : undefined, 'aria-invalid': error ? true : undefined })}
      {note && (
        <p id={noteId} className={error ? 'field-error' : 'field-hint'}>
          {note}
        </p>
      )}
    </div>
  );
}
