// The viewer's render size: a small preview while moving that adapts to a 3 fps budget, the
// full resolution at rest.
import { describe, expect, it } from 'vitest';
import { MIN_PREVIEW_SIZE, MOVING_BUDGET_MS, adaptPreviewSize, initialPreviewSize, viewerRenderSize } from '../../../src/renderer/src/editor/preview';

describe('viewer preview size', () => {
  it('asks for the full resolution at rest and the preview while moving', () => {
    expect(viewerRenderSize(1024, true, 256)).toBe(1024);
    expect(viewerRenderSize(1024, false, 256)).toBe(256);
    // A model smaller than the preview renders at its own size either way.
    expect(initialPreviewSize(64)).toBe(64);
    expect(viewerRenderSize(64, false, initialPreviewSize(64))).toBe(64);
    expect(initialPreviewSize(1024)).toBe(256);
  });

  it('halves a preview that misses 3 fps, not below 64, and grows back when there is room', () => {
    expect(adaptPreviewSize(1024, 256, MOVING_BUDGET_MS + 1)).toBe(128);
    expect(adaptPreviewSize(1024, 128, 500)).toBe(64);
    expect(adaptPreviewSize(1024, MIN_PREVIEW_SIZE, 900)).toBe(64);
    expect(adaptPreviewSize(1024, 256, 300)).toBe(256);
    expect(adaptPreviewSize(1024, 64, 100)).toBe(128);
    expect(adaptPreviewSize(1024, 128, 140)).toBe(128);
    expect(adaptPreviewSize(1024, 256, 10)).toBe(256);
    expect(adaptPreviewSize(32, 32, 1000)).toBe(32);
  });
});
