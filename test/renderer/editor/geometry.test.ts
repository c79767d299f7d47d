import { describe, expect, it } from 'vitest';
import type { ParamGroup } from '../../../src/shared/contract';
import {
  GROUP_HEIGHT,
  ROW_HEIGHT,
  backingStoreResize,
  fitValueRange,
  formatTimecode,
  frameToX,
  layoutRows,
  nearestWithin,
  niceStep,
  panTimeView,
  rectBetween,
  rowAt,
  rulerTicks,
  tracksInBand,
  valueTicks,
  valueToY,
  xToFrame,
  xToWholeFrame,
  yToValue,
  zoomTimeView
} from '../../../src/renderer/src/editor/geometry';

const view = { start: 10, end: 60, x0: 12, width: 500 };
const GROUPS: ParamGroup[] = ['pose', 'pose', 'pose', 'mouth', 'mouth', 'eyes', 'brows'];
const ORDER: ParamGroup[] = ['pose', 'mouth', 'eyes', 'brows', 'nose-forehead-cheeks'];

describe('time and value transforms', () => {
  it('maps frames to pixels and back', () => {
    expect(frameToX(view, 10)).toBe(12);
    expect(frameToX(view, 60)).toBe(512);
    expect(frameToX(view, 35)).toBe(262);
    expect(xToFrame(view, 262)).toBe(35);
    expect(xToWholeFrame(view, 265, 100)).toBe(35); // 35.3 rounds to 35
    expect(xToWholeFrame(view, -500, 100)).toBe(0);
    expect(xToWholeFrame(view, 5000, 40)).toBe(39);
  });

  it('maps values to pixels with larger values higher up, and back', () => {
    const v = { min: -2, max: 2, y0: 30, height: 200 };
    expect(valueToY(v, 2)).toBe(30);
    expect(valueToY(v, -2)).toBe(230);
    expect(valueToY(v, 0)).toBe(130);
    expect(yToValue(v, 80)).toBe(1);
    for (const x of [-1.7, 0.3, 1.99]) expect(yToValue(v, valueToY(v, x))).toBeCloseTo(x, 12);
  });

  it('fits a padded value range, with a minimum span for flat lines', () => {
    expect(fitValueRange([[0, 4], Float64Array.of(1, 2)], 0.25)).toEqual({ min: -1, max: 5 });
    expect(fitValueRange([[3, 3]])).toEqual({ min: 2.5, max: 3.5 });
    expect(fitValueRange([])).toEqual({ min: -1, max: 1 });
  });

  it('zooms around an anchor frame and pans inside the clip', () => {
    const z = zoomTimeView({ start: 0, end: 100, x0: 0, width: 100 }, 50, 0.5, 101);
    expect([z.start, z.end]).toEqual([25, 75]);
    const clamped = zoomTimeView({ start: 0, end: 100, x0: 0, width: 100 }, 90, 4, 101);
    expect([clamped.start, clamped.end]).toEqual([0, 100]);
    const tight = zoomTimeView({ start: 40, end: 60, x0: 0, width: 100 }, 50, 0.01, 101);
    expect(tight.end - tight.start).toBe(8);
    const p = panTimeView({ start: 25, end: 75, x0: 0, width: 100 }, 40, 101);
    expect([p.start, p.end]).toEqual([50, 100]);
  });
});

describe('ticks', () => {
  it('nice steps are 1, 2, 5 times powers of ten', () => {
    expect([0.13, 0.3, 3, 7, 18, 0].map(niceStep)).toEqual([0.2, 0.5, 5, 10, 20, 1]);
    expect(valueTicks(-1.1, 2.2, 6)).toEqual([-1, 0, 1, 2]); // step 3.3/6 rounds up to 1
    expect(valueTicks(-1.1, 2.2, 12)).toEqual([-1, -0.5, 0, 0.5, 1, 1.5, 2]);
  });

  it('labels the ruler in seconds when zoomed out and in frames when zoomed in', () => {
    // 300 frames at 30 fps over 600 px: 2 px per frame, labels >= 70 px apart -> every 2 s (60 frames).
    const wide = rulerTicks({ start: 0, end: 300, x0: 0, width: 600 }, 30);
    expect(wide.filter((t) => t.major).map((t) => t.label)).toEqual(['0s', '2s', '4s', '6s', '8s', '10s']);
    // Minor ticks: the smallest divisor of 60 frames at least 6 px apart, 5 frames.
    expect(wide.filter((t) => !t.major).slice(0, 3).map((t) => t.frame)).toEqual([5, 10, 15]);
    // 20 frames over 800 px: 40 px per frame -> a label every 2 frames, minor ticks every frame.
    const close = rulerTicks({ start: 0, end: 20, x0: 0, width: 800 }, 30);
    expect(close.filter((t) => t.major).slice(0, 4).map((t) => t.label)).toEqual(['0f', '2f', '4f', '6f']);
    expect(close.map((t) => t.frame).slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('formats timecodes as minutes:seconds.frames', () => {
    expect(formatTimecode(0, 30)).toBe('0:00.00');
    expect(formatTimecode(95, 30)).toBe('0:03.05');
    expect(formatTimecode(30 * 61 + 29, 30)).toBe('1:01.29');
    expect(formatTimecode(7, 0)).toBe('7f');
  });
});

describe('rows and hit-testing', () => {
  it('lays out group headers and track rows, skipping collapsed groups', () => {
    const rows = layoutRows(GROUPS, ORDER, new Set(['mouth']));
    expect(rows.map((r) => (r.kind === 'group' ? r.group : r.track))).toEqual(['pose', 0, 1, 2, 'mouth', 'eyes', 5, 'brows', 6]);
    expect(rows[1]!.y).toBe(GROUP_HEIGHT);
    expect(rows[4]!.y).toBe(GROUP_HEIGHT + 3 * ROW_HEIGHT);
    expect(rowAt(rows, GROUP_HEIGHT + ROW_HEIGHT + 3)!.track).toBe(1);
    expect(rowAt(rows, -1)).toBeNull();
  });

  it('finds the tracks in a dragged band; a collapsed header stands for its tracks', () => {
    const rows = layoutRows(GROUPS, ORDER, new Set(['mouth']));
    const yMouth = rows[4]!.y;
    expect(tracksInBand(rows, GROUPS, yMouth + ROW_HEIGHT + 10, GROUP_HEIGHT + 5)).toEqual([0, 1, 2, 3, 4]);
    expect(tracksInBand(rows, GROUPS, 0, 3)).toEqual([]);
  });

  it('picks the nearest point within the radius', () => {
    const pts = [
      { x: 10, y: 10, id: 'a' },
      { x: 16, y: 10, id: 'b' }
    ];
    expect(nearestWithin(pts, 14, 10, 8)!.id).toBe('b');
    expect(nearestWithin(pts, 12, 11, 8)!.id).toBe('a');
    expect(nearestWithin(pts, 40, 40, 8)).toBeNull();
    expect(rectBetween({ x: 30, y: 5 }, { x: 10, y: 25 })).toEqual({ x: 10, y: 5, w: 20, h: 20 });
  });
});

describe('canvas backing store', () => {
  it('sizes the store in whole device pixels for the CSS size and pixel ratio', () => {
    expect(backingStoreResize({ width: 300, height: 150 }, 800, 240, 1)).toEqual({ width: 800, height: 240 });
    expect(backingStoreResize({ width: 800, height: 240 }, 800, 240, 2)).toEqual({ width: 1600, height: 480 });
    // Fractional CSS sizes and ratios round to the nearest device pixel.
    expect(backingStoreResize({ width: 0, height: 0 }, 640.4, 200.5, 1.25)).toEqual({ width: 801, height: 251 });
  });

  it('keeps a store that already has that size (a redraw that would only clear and reallocate it)', () => {
    expect(backingStoreResize({ width: 1600, height: 480 }, 800, 240, 2)).toBeNull();
    expect(backingStoreResize({ width: 801, height: 251 }, 640.4, 200.5, 1.25)).toBeNull();
    // A CSS size change under a pixel still rounds to the same store.
    expect(backingStoreResize({ width: 800, height: 240 }, 800.3, 239.8, 1)).toBeNull();
    expect(backingStoreResize({ width: 800, height: 240 }, 800, 241, 1)).toEqual({ width: 800, height: 241 });
  });
});
