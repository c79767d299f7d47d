import { forwardRef, type ButtonHTMLAttributes, type ReactNode } from 'react';
import { formatShortcut } from './shortcut';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  /** primary: the one main action of a view; secondary: bordered; ghost: quiet; danger: destructive. */
  variant?: 'primary' | 'secondary' | 'ghost' | 'danger';
  size?: 'small' | 'medium' | 'large';
  /** An icon before the label. */
  icon?: ReactNode;
  /** A combo such as "mod+e", printed after the label (the handler is registered elsewhere, e.g. useShortcut). */
  shortcut?: string;
  /** Shows a spinner and disables the button. */
  busy?: boolean;
}

/** The app's text button. */
export const Button = forwardRef<HTMLButtonElement, ButtonProps>(function Button(
  { variant = 'secondary', size = 'medium', icon, shortcut, busy = false, className, children, disabled, type = 'button', ...rest },
  ref
) {
  const classes = ['button', `button-${variant}`, `button-${size}`, className].filter(Boolean).join(' ');
  return (
    <button ref={ref} type={type} className={classes} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : icon}
      {children !== undefined && <span className="button-label">{children}</span>}
      {shortcut && <kbd aria-hidden="true">{formatShortcut(shortcut)}</kbd>}
    </button>
  );
});
