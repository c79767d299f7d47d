import { describe, expect, it } from 'vitest';
import type { EncodeFrameEvent, JobProgress, ModelSummary, VideoInfo } from '../../src/shared/contract';
import { clampForm, defaultProjectPath, framesToSeconds, hasErrors, initialForm, secondsToFrames, toEncodeRequest, totalFrames, validateForm } from '../../src/renderer/src/encode/encodeForm';
import { MAX_THUMBS, encodeRunReducer, identitySeries, idleRun, mergeLoss, stageStates, type EncodeRun, type EncodeRunAction } from '../../src/renderer/src/encode/encodeRun';
import { linearScale, lossStats, lossTicks, nearestByX, niceStep, niceTicks } from '../../src/renderer/src/encode/plot';
import { parseEncodeRequest, recallEncode, rememberEncode, type KeyValueStore } from '../../src/renderer/src/encode/resumeStore';

const POSTER = 'data:image/png;base64,AAAA';
const video: VideoInfo = { path: '/clips/talk.mp4', width: 1280, height: 720, fps: 30, frames: 90, durationSec: 3, hasAudio: true, firstFrameAtSec: 0, poster: POSTER, timingWarning: null, picture: null };
const models: ModelSummary[] = [{ id: 'seeded-64', name: 'Seeded 64', resolution: 64, path: '/models/seeded-64' }];

describe('encode form', () => {
  it('defaults to the whole clip, the first model and a project beside the video', () => {
    const f = initialForm(video, models);
    expect(f).toEqual({ model: '/models/seeded-64', start: 0, count: 90, quality: 'normal', align: 'auto', identity: 'auto', out: '/clips/talk.stylecast' });
    expect(validateForm(f, video, models)).toEqual({});
    expect(defaultProjectPath('D:\\media\\my.clip.mov')).toBe('D:\\media\\my.clip.stylecast');
  });

  it('converts between frames and seconds at the video rate', () => {
    expect(secondsToFrames(1.5, 30)).toBe(45);
    expect(secondsToFrames(1 / 29.97, 29.97)).toBe(1);
    expect(framesToSeconds(45, 30)).toBe(1.5);
    expect(framesToSeconds(10, 0)).toBe(0);
  });

  it('estimates the frame count from the duration when the container has none', () => {
    expect(totalFrames({ frames: 0, fps: 25, durationSec: 2.1 })).toBe(52);
    expect(totalFrames({ frames: 60, fps: 25, durationSec: 99 })).toBe(60);
  });

  it('keeps the range inside the clip and the identity inside the range', () => {
    const f = initialForm(video, models);
    expect(clampForm({ ...f, start: 80, count: 50 }, video)).toMatchObject({ start: 80, count: 10 });
    expect(clampForm({ ...f, start: 200 }, video)).toMatchObject({ start: 89, count: 1 });
    expect(clampForm({ ...f, count: 8, identity: 20 }, video)).toMatchObject({ count: 8, identity: 7 });
    expect(clampForm({ ...f, start: 2.6, count: 0 }, video)).toMatchObject({ start: 3, count: 1 });
  });

  it('says what to change for each invalid field', () => {
    const f = initialForm(video, models);
    expect(validateForm({ ...f, start: 60, count: 40 }, video, models).count).toBe('Only 30 frames follow frame 60; lower the count.');
    expect(validateForm({ ...f, start: 90 }, video, models).start).toBe('Start must be a frame from 0 to 89.');
    expect(validateForm({ ...f, count: 0 }, video, models).count).toBe('Encode at least 1 frame.');
    expect(validateForm({ ...f, count: 4, identity: 4 }, video, models).identity).toMatch(/inside the range \(0 to 3\)/);
    expect(validateForm({ ...f, out: '/clips/talk' }, video, models).out).toMatch(/end in \.stylecast/);
    expect(validateForm({ ...f, out: 'talk.stylecast' }, video, models).out).toMatch(/full path/);
    expect(validateForm(f, video, []).model).toMatch(/No model bundle is installed/);
    expect(validateForm({ ...f, model: '/elsewhere' }, video, models).model).toBe('Choose a model bundle.');
    expect(hasErrors(validateForm({ ...f, out: 'C:\\p\\talk.stylecast' }, video, models))).toBe(false);
  });

  it('builds the encode:start request', () => {
    const f = { ...initialForm(video, models), start: 10, count: 20, quality: 'draft' as const, identity: 5 };
    expect(toEncodeRequest(f, video)).toEqual({ video: '/clips/talk.mp4', model: '/models/seeded-64', out: '/clips/talk.stylecast', start: 10, count: 20, quality: 'draft', align: 'auto', identityFrame: 5 });
    expect(toEncodeRequest({ ...f, identity: 'auto' }, video).identityFrame).toBeNull();
  });
});

describe('plot scaling', () => {
  it('picks 1-2-2.5-5 steps', () => {
    expect(niceStep(10, 4)).toBe(2.5);
    expect(niceStep(0.37, 4)).toBe(0.1);
    expect(niceStep(700, 4)).toBe(200);
    expect(niceStep(0)).toBe(1);
    expect(niceStep(10, 4, true)).toBe(2);
    expect(niceStep(3, 6, true)).toBe(1);
    expect(niceStep(100, 4, true)).toBe(25);
  });

  it('covers the data with round ticks', () => {
    const t = niceTicks(0.013, 0.087, 4);
    expect(t.step).toBe(0.02);
    expect(t.min).toBe(0);
    expect(t.max).toBeCloseTo(0.1, 12);
    expect(t.values).toEqual([0, 0.02, 0.04, 0.06, 0.08, 0.1]);
    const flat = niceTicks(2, 2);
    expect(flat.min).toBeLessThan(2);
    expect(flat.max).toBeGreaterThan(2);
  });

  it('starts loss axes at zero unless the data sits far above it', () => {
    expect(lossTicks([0.1, 0.3, 0.2]).min).toBe(0);
    const zoomed = lossTicks([10.2, 10.8, 10.5]);
    expect(zoomed.min).toBeGreaterThan(9);
    expect(zoomed.max).toBeGreaterThanOrEqual(10.8);
    expect(lossTicks([]).values).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('maps data to pixels, upside down for y', () => {
    const y = linearScale(0, 1, 200, 0);
    expect(y(0)).toBe(200);
    expect(y(0.25)).toBe(150);
    expect(linearScale(3, 3, 0, 100)(3)).toBe(50);
  });

  it('finds the nearest point and the loss statistics', () => {
    const pts = [0, 10, 20, 30].map((x) => ({ x, y: x }));
    expect(nearestByX(pts, 14)?.x).toBe(10);
    expect(nearestByX(pts, 16)?.x).toBe(20);
    expect(nearestByX(pts, -5)?.x).toBe(0);
    expect(nearestByX([], 3)).toBeNull();
    const s = lossStats([
      { frame: 0, loss: 0.1 },
      { frame: 1, loss: 0.4 },
      { frame: 2, loss: 0.1 }
    ]);
    expect(s.mean).toBeCloseTo(0.2, 12);
    expect(s.worst).toEqual({ frame: 1, loss: 0.4 });
  });
});

const prog = (jobId: string, stage: string, fraction: number, loss: number | null = null): JobProgress => ({ jobId, kind: 'encode', stage, fraction, etaSec: null, message: stage, frame: null, of: null, loss });
const frame = (jobId: string, f: number, loss: number): EncodeFrameEvent => ({ jobId, frame: f, loss, source: POSTER, render: POSTER });
const apply = (actions: EncodeRunAction[], from: EncodeRun = idleRun()) => actions.reduce(encodeRunReducer, from);

describe('encode run', () => {
  it('collects identity loss, per-frame loss in frame order and the newest thumbnails', () => {
    const r = apply([
      { type: 'start' },
      { type: 'started', jobId: 'e' },
      { type: 'progress', progress: prog('e', 'identity', 0.2, 0.9) },
      { type: 'progress', progress: prog('e', 'refine', 0.35, 0.5) },
      { type: 'frame', frame: frame('e', 1, 0.3) },
      { type: 'frame', frame: frame('e', 0, 0.2) },
      { type: 'frame', frame: frame('x', 2, 9) }
    ]);
    expect(r.identityLoss).toEqual([
      { step: 0, loss: 0.9, stage: 'identity' },
      { step: 1, loss: 0.5, stage: 'refine' }
    ]);
    expect(r.frameLoss).toEqual([
      { frame: 0, loss: 0.2 },
      { frame: 1, loss: 0.3 }
    ]);
    expect(r.thumbs.map((t) => t.frame)).toEqual([0, 1]);
    expect(r.stagesSeen).toEqual(['identity', 'refine']);
  });

  it('plots the identity search and the refinement as two series, since the refinement reports a loss of its own', () => {
    const r = apply([
      { type: 'start' },
      { type: 'started', jobId: 'e' },
      { type: 'progress', progress: prog('e', 'identity', 0.1, 0.9) },
      { type: 'progress', progress: prog('e', 'identity', 0.2, 0.6) },
      { type: 'progress', progress: prog('e', 'refine', 0.3, 0.05) },
      { type: 'progress', progress: prog('e', 'refine', 0.35, 0.04) }
    ]);
    expect(identitySeries(r.identityLoss)).toEqual([
      { label: 'Identity search', points: [{ x: 0, y: 0.9 }, { x: 1, y: 0.6 }] },
      { label: 'Refinement (its own loss)', points: [{ x: 2, y: 0.05 }, { x: 3, y: 0.04 }] }
    ]);
    // Before the refinement reports (or with a given identity), one series and no legend.
    expect(identitySeries(r.identityLoss.slice(0, 2)).map((s) => s.label)).toEqual(['Identity search']);
    expect(identitySeries([])).toEqual([]);
  });

  it('replays frames and progress that came before the job id', () => {
    const r = apply([{ type: 'start' }, { type: 'progress', progress: prog('e', 'identity', 0.2, 0.7) }, { type: 'frame', frame: frame('e', 0, 0.25) }, { type: 'frame', frame: frame('z', 0, 5) }, { type: 'started', jobId: 'e' }]);
    expect(r.job.progress?.stage).toBe('identity');
    expect(r.identityLoss).toHaveLength(1);
    expect(r.frameLoss).toEqual([{ frame: 0, loss: 0.25 }]);
    expect(r.pendingFrames).toEqual([]);
  });

  it('keeps at most MAX_THUMBS thumbnails and replaces a re-encoded frame', () => {
    const actions: EncodeRunAction[] = [{ type: 'start' }, { type: 'started', jobId: 'e' }];
    for (let i = 0; i < MAX_THUMBS + 5; i++) actions.push({ type: 'frame', frame: frame('e', i, i / 100) });
    actions.push({ type: 'frame', frame: frame('e', 3, 0.5) });
    const r = apply(actions);
    expect(r.thumbs).toHaveLength(MAX_THUMBS);
    expect(r.thumbs[0]!.frame).toBe(3);
    expect(r.frameLoss).toHaveLength(MAX_THUMBS + 5);
    expect(r.frameLoss[3]).toEqual({ frame: 3, loss: 0.5 });
  });

  it('starts a new run clean (resume after cancel)', () => {
    const first = apply([{ type: 'start' }, { type: 'started', jobId: 'e' }, { type: 'frame', frame: frame('e', 0, 0.2) }, { type: 'done', done: { jobId: 'e', kind: 'encode', status: 'cancelled', message: 'cancelled', path: '/p.stylecast' } }]);
    expect(first.job.phase).toBe('cancelled');
    const again = encodeRunReducer(first, { type: 'start' });
    expect(again.frameLoss).toEqual([]);
    expect(again.job.phase).toBe('starting');
  });

  it('marks stages before the current one done', () => {
    expect(stageStates('identity', 'running')).toEqual(['done', 'done', 'done', 'active', 'pending', 'pending']);
    expect(stageStates(null, 'starting')).toEqual(Array(6).fill('pending'));
    expect(stageStates('frames', 'done')).toEqual(Array(6).fill('done'));
  });
});

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('remembered encode requests', () => {
  const req = { video: '/v.mp4', model: '/m', out: '/v.stylecast', start: 12, count: 30, quality: 'best' as const, align: 'face' as const, identityFrame: null };

  it('recalls the last request for an output folder', () => {
    const store = memoryStore();
    rememberEncode(store, req);
    rememberEncode(store, { ...req, out: '/other.stylecast' });
    rememberEncode(store, { ...req, count: 31 });
    expect(recallEncode(store, '/v.stylecast')).toEqual({ ...req, count: 31 });
    expect(recallEncode(store, '/none.stylecast')).toBeNull();
    expect(JSON.parse(store.data.get('stylecast.encodeRequests')!)).toHaveLength(2);
  });

  it('drops entries that are not requests and survives broken storage', () => {
    expect(parseEncodeRequest({ ...req, quality: 'ultra' })).toBeNull();
    expect(parseEncodeRequest({ ...req, start: -1 })).toBeNull();
    expect(parseEncodeRequest({ ...req, count: null })).toEqual({ ...req, count: null });
    const store = memoryStore();
    store.data.set('stylecast.encodeRequests', '{not json');
    expect(recallEncode(store, '/v.stylecast')).toBeNull();
    rememberEncode(store, req);
    expect(recallEncode(store, '/v.stylecast')).toEqual(req);
  });
});

describe('merged loss', () => {
  it('keeps earlier frames up to the first frame of the new run', () => {
    const prior = [0, 1, 2, 3].map((frame) => ({ frame, loss: 1 }));
    expect(mergeLoss(prior, [{ frame: 2, loss: 0.5 }])).toEqual([
      { frame: 0, loss: 1 },
      { frame: 1, loss: 1 },
      { frame: 2, loss: 0.5 }
    ]);
    expect(mergeLoss(prior, [])).toEqual(prior);
    expect(mergeLoss([], [{ frame: 0, loss: 2 }])).toEqual([{ frame: 0, loss: 2 }]);
  });
});
