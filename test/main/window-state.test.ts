import { describe, it, expect } from 'vitest';
import { parseWindowState, restorableBounds } from '../../src/main/window-state';

const screen = { x: 0, y: 0, width: 1920, height: 1040 };

describe('restorableBounds', () => {
  it('keeps bounds that are on a display', () => {
    expect(restorableBounds({ x: 100, y: 80, width: 1280, height: 800 }, [screen])).toEqual({ x: 100, y: 80, width: 1280, height: 800 });
  });

  it('drops bounds on a display that is gone', () => {
    expect(restorableBounds({ x: 2500, y: 100, width: 1280, height: 800 }, [screen])).toBeNull();
    expect(restorableBounds({ x: 100, y: -600, width: 1280, height: 800 }, [screen])).toBeNull();
  });

  it('shrinks a window larger than its display', () => {
    expect(restorableBounds({ x: 0, y: 0, width: 3000, height: 2000 }, [screen])).toEqual({ x: 0, y: 0, width: 1920, height: 1040 });
  });
});

describe('parseWindowState', () => {
  it('reads a saved state and rejects malformed ones', () => {
    expect(parseWindowState({ bounds: { x: 1, y: 2, width: 3, height: 4 }, maximized: true })).toEqual({ bounds: { x: 1, y: 2, width: 3, height: 4 }, maximized: true });
    expect(parseWindowState({ bounds: { x: 1, y: 2, width: 0, height: 4 } })).toBeNull();
    expect(parseWindowState(null)).toBeNull();
  });
});
