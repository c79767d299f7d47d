import { useId, type ReactElement, type ReactNode } from 'react';
import { formatShortcut } from './shortcut';

export interface TooltipProps {
  /** What the tooltip says. */
  text: ReactNode;
  /** A combo such as "mod+z", shown after the text. */
  shortcut?: string;
  side?: 'top' | 'bottom' | 'left' | 'right';
  /** Render-prop: receives the id to put in the trigger's aria-describedby. */
  children: (describedBy: string) => ReactElement;
}

/** A tooltip shown on hover and on keyboard focus (pure CSS, so it never lags behind). */
export function Tooltip({ text, shortcut, side = 'top', children }: TooltipProps) {
  const id = useId();
  return (
    <span className={`tooltip-host tooltip-${side}`}>
      {children(id)}
      <span role="tooltip" id={id} className="tooltip">
        {text}
        {shortcut && <kbd>{formatShortcut(shortcut)}</kbd>}
      </span>
    </span>
  );
}
