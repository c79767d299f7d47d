// Pure window-state logic: what is saved, and where a saved window may reopen.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Rect;
  maximized: boolean;
}

export const DEFAULT_SIZE = { width: 1280, height: 800 } as const;
export const MIN_SIZE = { width: 900, height: 600 } as const;
/** How much of the title area must stay on a display for the window to be reachable. */
const MIN_VISIBLE = { width: 160, height: 48 } as const;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Reads a saved state leniently: anything malformed means "no saved state". */
export function parseWindowState(value: unknown): WindowState | null {
  if (typeof value !== 'object' || value === null) return null;
  const { bounds, maximized } = value as Record<string, unknown>;
  if (typeof bounds !== 'object' || bounds === null) return null;
  const { x, y, width, height } = bounds as Record<string, unknown>;
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height) || width <= 0 || height <= 0) return null;
  return { bounds: { x, y, width, height }, maximized: maximized === true };
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)
  };
}

/**
 * The saved bounds if their top strip is still on one of the displays' work
 * areas (a monitor may have been unplugged), shrunk to fit that display;
 * otherwise null, and the window opens centred at the default size.
 */
export function restorableBounds(saved: Rect, workAreas: readonly Rect[]): Rect | null {
  const titleStrip: Rect = { x: saved.x, y: saved.y, width: saved.width, height: MIN_VISIBLE.height };
  for (const area of workAreas) {
    const o = overlap(titleStrip, area);
    if (o.width >= MIN_VISIBLE.width && o.height >= MIN_VISIBLE.height) {
      return {
        x: saved.x,
        y: saved.y,
        width: Math.max(MIN_SIZE.width, Math.min(saved.width, area.width)),
        height: Math.max(MIN_SIZE.height, Math.min(saved.height, area.height))
      };
    }
  }
  return null;
}
