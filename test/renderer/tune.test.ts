import { describe, expect, it } from 'vitest';
import type { TuneEstimate } from '../../src/shared/contract';
import { canCompareTuning, estimateText, initialTuneForm, roughDuration, toTuneRequest, tuneReportText, tuneSeconds, validateTune } from '../../src/renderer/src/tune/tuneForm';
import { projectFixture } from './fixtures';

const estimate: TuneEstimate = { secondsPerStep: 1.25, secondsPerRender: 0.2, framesPerStep: 4, localityPerStep: 2, encoded: 32, tuned: 24, heldOut: 8, deltaBytes: 151_518, maxRank: 8 };
const tune = { file: 'delta-0123456789ab.f16', rank: 8, deltaBytes: 151_518, psnrHeldOut: { before: 18.2, after: 21.35 }, ignored: null };

describe('fine-tune form', () => {
  it('starts at the CLI defaults and sends exactly what the contract takes', () => {
    const project = projectFixture();
    expect(initialTuneForm()).toEqual({ steps: 600, rank: 8 });
    expect(toTuneRequest(project, { steps: 200, rank: 4 })).toEqual({ project: '/work/talk.stylecast', steps: 200, rank: 4 });
  });

  it('refuses steps and ranks out of range, a rank over the measured budget, a missing model or source', () => {
    const project = projectFixture();
    expect(validateTune(project, { steps: 600, rank: 8 }, null)).toBeNull();
    expect(validateTune(project, { steps: 0, rank: 8 }, null)).toBe('Steps must be a whole number from 1 to 20000.');
    expect(validateTune(project, { steps: 2.5, rank: 8 }, null)).toBe('Steps must be a whole number from 1 to 20000.');
    expect(validateTune(project, { steps: 600, rank: 65 }, null)).toBe('Rank must be a whole number from 1 to 64.');
    expect(validateTune(project, { steps: 600, rank: 9 }, estimate)).toBe('Rank must be a whole number from 1 to 8 (the largest whose delta fits 5% of the synthesis weights).');
    expect(validateTune({ ...project, model: { ...project.model, path: null } }, initialTuneForm(), null)).toMatch(/“Seeded 64” .* is not installed/);
    expect(validateTune({ ...project, source: { ...project.source, path: null } }, initialTuneForm(), null)).toMatch(/source video, which is not where the project says/);
  });

  it('prices a run from the timed step and render: steps x step + 2 renders per encoded frame', () => {
    expect(tuneSeconds(estimate, 600)).toBeCloseTo(600 * 1.25 + 2 * 32 * 0.2, 9);
    expect(roughDuration(45.4)).toBe('45 s');
    expect(roughDuration(tuneSeconds(estimate, 600))).toBe('13 min');
    expect(roughDuration(3 * 3600)).toBe('3.0 h');
    expect(estimateText(estimate, 600)).toBe(
      'Estimate: about 13 min. 600 steps × 1.25 s (one step of 4 frames + 2 random latents, forward and gradient, timed just now on this machine), plus measuring PSNR: 2 renders of each of 32 frames at 0.2 s. Tunes on 24 frames, holds out 8; the delta takes 152 KB.'
    );
    expect(estimateText({ ...estimate, localityPerStep: 0, framesPerStep: 1 }, 1)).toMatch(/^Estimate: about 14 s\. 1 step × 1\.25 s \(one step of 1 frame, forward/);
  });

  it('reports held-out PSNR before and after with the delta size, and compares only a delta that applies', () => {
    expect(tuneReportText(tune)).toBe('Held-out PSNR 18.20 → 21.35 dB (+3.15 dB) · delta 152 KB, rank 8');
    expect(tuneReportText({ ...tune, psnrHeldOut: { before: 20, after: 19.5 } })).toContain('(−0.50 dB)');
    expect(tuneReportText({ ...tune, psnrHeldOut: null })).toBe('delta 152 KB, rank 8');
    expect(canCompareTuning(projectFixture({ tune }))).toBe(true);
    expect(canCompareTuning(projectFixture())).toBe(false);
    expect(canCompareTuning(projectFixture({ tune: { ...tune, ignored: 'the fine-tuning delta /p/delta.f16 is missing.' } }))).toBe(false);
  });
});
