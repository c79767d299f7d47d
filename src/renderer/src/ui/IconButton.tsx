import { forwardRef, type ButtonHTMLAttributes, type ReactNode } from 'react';
import { Tooltip } from './Tooltip';

export interface IconButtonProps extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'children' | 'aria-label'> {
  /** The accessible name, also shown as the tooltip. */
  label: string;
  icon: ReactNode;
  /** A combo such as "mod+z", shown in the tooltip. */
  shortcut?: string;
  /** For toggles: sets aria-pressed and the pressed look. */
  pressed?: boolean;
  size?: 'small' | 'medium';
  tooltipSide?: 'top' | 'bottom' | 'left' | 'right';
}

/** A square button with only an icon; its label is the aria-label and the tooltip. */
export const IconButton = forwardRef<HTMLButtonElement, IconButtonProps>(function IconButton(
  { label, icon, shortcut, pressed, size = 'medium', tooltipSide = 'top', className, type = 'button', ...rest },
  ref
) {
  const classes = ['icon-button', size === 'small' ? 'icon-button-small' : '', pressed ? 'is-pressed' : '', className].filter(Boolean).join(' ');
  return (
    <Tooltip text={label} shortcut={shortcut} side={tooltipSide}>
      {(describedBy) => (
        <button ref={ref} type={type} className={classes} aria-label={label} aria-pressed={pressed} aria-describedby={shortcut ? describedBy : undefined} {...rest}>
          {icon}
        </button>
      )}
    </Tooltip>
  );
});
