// The editor part of the scenario, driven the way a user does it: keys added at
// the playhead, a mouth key raised with the keyboard and dragged in the dope
// sheet, the head gizmo dragged, then one undo and one redo. Zero keys on both
// sides bound the edits, so only frames 2 to 6 of 8 change.
import { expect } from 'vitest';
import type { Studio } from './harness';

/** The mouth track the scenario edits (the first attribute: "lip open" on calibrated models). */
export const MOUTH_TRACK = 3;
export const YAW_TRACK = 0;
/** Where the scenario's keys end up: zero keys at 1 and 7, the edited key at 5 (mouth) and 4 (yaw). */
export const EXPECTED_KEYS = { mouth: [1, 5, 7], yaw: [1, 4, 7] };

const yawOf = (label: string | null): number => Number(/yaw (-?[\d.]+)/.exec(label ?? '')?.[1]);

export async function editTimeline(studio: Studio, { frames }: { frames: number }): Promise<void> {
  const { page } = studio;
  await page.getByTestId('editor').waitFor();
  await page.locator('[data-testid=viewer-render][data-state=ready]').waitFor({ timeout: 60_000 });
  await studio.screenshot('05-editor');

  const playhead = page.getByTestId('playhead');
  const goTo = async (frame: number) => {
    await playhead.focus();
    await playhead.press('Home');
    for (let i = 0; i < frame; i++) await playhead.press('ArrowRight');
    await expect.poll(() => playhead.inputValue()).toBe(String(frame));
  };
  const addKey = async (frame: number) => {
    await goTo(frame);
    await page.getByTestId('add-key').click();
  };

  // A mouth key: zero keys at 1 and 7, a key at 4 raised by 3 units with Shift+ArrowUp.
  await page.getByTestId(`track-${MOUTH_TRACK}`).click();
  for (const f of [1, 7, 4]) await addKey(f);
  const dope = page.getByTestId('dope-sheet');
  await dope.focus();
  for (let i = 0; i < 3; i++) await dope.press('Shift+ArrowUp');
  await expect.poll(() => page.getByTestId(`track-${MOUTH_TRACK}`).getAttribute('aria-label')).toMatch(/3 keys/);

  // ... then dragged one frame later with the mouse.
  const box = (await dope.boundingBox())!;
  const row = (await page.getByTestId(`track-${MOUTH_TRACK}`).boundingBox())!;
  const xOf = (f: number) => box.x + 12 + (f / (frames - 1)) * (box.width - 24);
  const y = row.y + row.height / 2;
  await page.mouse.move(xOf(4), y);
  await page.mouse.down();
  for (let s = 1; s <= 8; s++) await page.mouse.move(xOf(4 + s / 8), y);
  await page.mouse.up();

  // The head gizmo: yaw keyed to zero at 1 and 7, then turned at frame 4 by dragging across the head.
  await page.getByTestId(`track-${YAW_TRACK}`).click();
  await addKey(1);
  await addKey(7);
  await goTo(4);
  const gizmo = page.getByTestId('head-gizmo');
  const before = yawOf(await gizmo.getAttribute('aria-label'));
  const g = (await gizmo.boundingBox())!;
  const cx = g.x + g.width / 2;
  const cy = g.y + g.height / 2;
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let s = 1; s <= 8; s++) await page.mouse.move(cx + s * 10, cy);
  await page.mouse.up();
  await expect.poll(async () => yawOf(await gizmo.getAttribute('aria-label')) - before).toBeCloseTo(20, 0);
  await page.getByTestId('timeline-mode-graph').click();
  await studio.screenshot('05b-editor-edited');

  // One undo takes the whole gizmo drag back; one redo brings it back.
  await page.getByTestId('undo').click();
  await expect.poll(async () => yawOf(await gizmo.getAttribute('aria-label'))).toBeCloseTo(before, 1);
  await page.getByTestId('redo').click();
  await expect.poll(async () => yawOf(await gizmo.getAttribute('aria-label')) - before).toBeCloseTo(20, 0);

  // Autosave writes the edits into the project.
  await expect.poll(() => page.getByTestId('save-state').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved');
  await studio.screenshot('05c-editor-saved');
}
