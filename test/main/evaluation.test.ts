// The Evaluate panel's plot, from a project folder's eval.json and the encoder's loss: the loss
// alone before `stylecast eval`, then one stacked panel per stored metric, each in its colour.
import { spawnSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { evaluationPlot } from '../../src/main/evaluation';
import { tempDir } from '../helpers';

const dir = tempDir('evaluation');

type Plot = ReturnType<typeof evaluationPlot>;
const decode = (p: Plot) => PNG.sync.read(Buffer.from(p.image.slice(p.image.indexOf(',') + 1), 'base64'));
function colours(png: PNG): Map<string, number> {
  const seen = new Map<string, number>();
  for (let i = 0; i < png.data.length; i += 4) {
    const k = `${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return seen;
}
const BLUE = '31,119,180';
const RED = '214,39,40';
const GREEN = '44,160,44';
const ORANGE = '255,127,14';
const PURPLE = '148,103,189';

describe('the Evaluate panel plot', () => {
  const project = { dir, sourcePath: '/clips/Łódź_ß_é.mp4', loss: Float32Array.from([0.3, 0.2, 0.25, 0.1]) };

  it('shows the encoder loss alone before the project is evaluated', () => {
    const p = evaluationPlot(project);
    expect(p.evaluated).toBe(false);
    const png = decode(p);
    expect([png.width, png.height]).toEqual([p.width, p.height]);
    expect(p.image.startsWith('data:image/png;base64,')).toBe(true);
    const seen = colours(png);
    // One series: the loss, drawn in the palette's first colour.
    expect(seen.get(BLUE) ?? 0).toBeGreaterThan(100);
    expect(seen.get(RED) ?? 0).toBe(0);
  });

  it('adds PSNR, SSIM, identity and jitter from eval.json, with gaps where JSON holds null', () => {
    const lossOnly = evaluationPlot(project);
    // eval.json as `stylecast eval` writes it: NaN (no face, identical frames) became null.
    const perFrame = { psnr: [30, 31, null, 29], ssim: [0.8, 0.81, 0.82, 0.79], akd: [null, null, null, null], identity: [0.5, 0.6, 0.7, null], jitter: [0.4, 0.2, 0.3, null] };
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ frames: 4, perFrame }));
    const p = evaluationPlot(project);
    expect(p.evaluated).toBe(true);
    expect(p.width).toBe(lossOnly.width);
    // Five stacked panels instead of one: four more of 24 + 170 px, 22 px apart.
    expect(p.height - lossOnly.height).toBe(4 * (24 + 170 + 22));
    // PSNR, SSIM, identity, jitter, loss in the palette order; AKD (no value) has no panel.
    const seen = colours(decode(p));
    for (const c of [BLUE, RED, GREEN, ORANGE, PURPLE]) expect(seen.get(c) ?? 0, c).toBeGreaterThan(40);
    expect(seen.get('140,86,75') ?? 0).toBe(0);
  });

  it('names a broken eval.json', () => {
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ frames: 4 }));
    expect(() => evaluationPlot(project)).toThrow(`${join(dir, 'eval.json')} has no per-frame values: run stylecast eval on the project again`);
  });

  it('does not read an eval.json that is a link or a pipe (a shared project), naming it', () => {
    const elsewhere = join(dir, '..', `outside-${process.pid}.json`);
    writeFileSync(elsewhere, JSON.stringify({ perFrame: { psnr: [1], ssim: [1], akd: [] } }));
    rmSync(join(dir, 'eval.json'), { force: true });
    symlinkSync(elsewhere, join(dir, 'eval.json'));
    expect(() => evaluationPlot(project)).toThrow(/eval\.json cannot be read: .*eval\.json is a link/);
    rmSync(join(dir, 'eval.json'));
    rmSync(elsewhere);
    expect(spawnSync('mkfifo', [join(dir, 'eval.json')]).status).toBe(0);
    expect(() => evaluationPlot(project)).toThrow(/eval\.json is not a regular file/);
    rmSync(join(dir, 'eval.json'));
    expect(evaluationPlot(project).evaluated).toBe(false);
  });
});
