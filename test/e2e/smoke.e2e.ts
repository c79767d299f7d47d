// The start screen in Chromium over the real core: it lists the seeded model.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/core/runtime';
import { calibratedSeededModel, tempDir } from '../helpers';
import { startStudio, type Studio } from './harness';

const tmp = tempDir('e2e-smoke');
let studio: Studio;

beforeAll(async () => {
  const rt = await Runtime.create({ device: 'cpu' });
  await calibratedSeededModel(join(tmp, 'models', 'seeded-64'), rt);
  await rt.release();
  studio = await startStudio({ modelsDir: join(tmp, 'models') });
});

afterAll(async () => {
  await studio?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('start screen', () => {
  it('opens and lists the seeded model and the device', async () => {
    const { page } = studio;
    await expect(page.getByRole('heading', { name: 'Stylecast Studio' })).toBeDefined();
    await page.getByRole('heading', { name: 'Stylecast Studio' }).waitFor();
    const status = page.getByRole('contentinfo', { name: 'Status' });
    await status.getByText('1 model bundle').waitFor();
    expect(await status.textContent()).toContain('seeded-64 (64px)');
    await studio.screenshot('01-start');
    expect(studio.pageErrors).toEqual([]);
  });
});
