// JobManager against scripted job processes: events, monotone progress with an
// estimated ETA, cancel with a deadline, a process that dies, and cancelAll.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { JobManager, type JobProcess } from '../../src/main/jobs/manager';
import type { FromWorker, ToWorker } from '../../src/main/jobs/protocol';
import { closeWarning } from '../../src/main/close-guard';

class ScriptedProcess implements JobProcess {
  readonly received: ToWorker[] = [];
  killed = false;
  private messageListener: (m: FromWorker) => void = () => {};
  private exitListener: (code: number | null) => void = () => {};
  send(m: ToWorker): void {
    this.received.push(m);
  }
  onMessage(l: (m: FromWorker) => void): void {
    this.messageListener = l;
  }
  onExit(l: (code: number | null) => void): void {
    this.exitListener = l;
  }
  kill(): void {
    this.killed = true;
    this.exitListener(null);
  }
  emit(m: FromWorker): void {
    this.messageListener(m);
  }
  exit(code: number): void {
    this.exitListener(code);
  }
}

function setup(graceMs = 50) {
  const procs: ScriptedProcess[] = [];
  const events: { name: string; payload: Record<string, unknown> }[] = [];
  const jobs = new JobManager(
    () => {
      const p = new ScriptedProcess();
      procs.push(p);
      return p;
    },
    (name, payload) => events.push({ name, payload: payload as unknown as Record<string, unknown> }),
    graceMs
  );
  return { jobs, procs, events };
}

const exportSpec = { kind: 'export', project: '/p/a.stylecast', model: '/m/seeded', modelWritable: true, source: null, out: '/v/out.mp4', size: 64, pasteBack: false, audio: false, crf: 20, lossless: false, edits: null, start: null, count: null, ignoreDelta: false } as const;
const progress = (stage: string, fraction: number, etaSec: number | null = null): FromWorker => ({ type: 'progress', stage, fraction, etaSec, message: '', frame: null, of: null, loss: null });

describe('JobManager', () => {
  it('starts a job process, turns its messages into events and ends with job:done', async () => {
    const { jobs, procs, events } = setup();
    const id = jobs.start(exportSpec);
    expect(procs[0]!.received).toEqual([{ type: 'start', spec: exportSpec }]);
    expect(jobs.list()).toEqual([{ jobId: id, kind: 'export', out: '/v/out.mp4' }]);
    expect(jobs.isWriting('/v/out.mp4')).toBe(true);
    procs[0]!.emit(progress('export', 0.5, 3));
    procs[0]!.emit(progress('export', 0.25, 4)); // a stage restarting its own range: the bar stays
    procs[0]!.emit({ type: 'done', status: 'done', message: 'Exported.', path: '/v/out.mp4' });
    expect(events.map((e) => [e.name, e.payload.fraction ?? e.payload.status])).toEqual([
      ['job:progress', 0.5],
      ['job:progress', 0.5],
      ['job:done', 'done']
    ]);
    expect(events[2]!.payload).toEqual({ jobId: id, kind: 'export', status: 'done', message: 'Exported.', path: '/v/out.mp4' });
    expect(procs[0]!.killed).toBe(true);
    expect(jobs.list()).toEqual([]);
    // Messages after the end are ignored.
    procs[0]!.emit(progress('export', 0.9));
    expect(events).toHaveLength(3);
  });

  it('estimates an ETA from the overall rate when the stage gives none', async () => {
    const { jobs, procs, events } = setup();
    jobs.start(exportSpec);
    procs[0]!.emit(progress('identity', 0.02));
    await new Promise((r) => setTimeout(r, 200));
    procs[0]!.emit(progress('identity', 0.5));
    expect(events[0]!.payload.etaSec).toBeNull();
    const eta = events[1]!.payload.etaSec as number;
    // Half done after about 0.2 s: about 0.2 s left.
    expect(eta).toBeGreaterThan(0.15);
    expect(eta).toBeLessThan(1);
  });

  it('cancels: asks the process, and kills it when it does not stop in time', async () => {
    const { jobs, procs, events } = setup(50);
    const polite = jobs.start(exportSpec);
    const stubborn = jobs.start({ ...exportSpec, out: '/v/two.mp4' });
    expect(jobs.cancel(polite)).toBe(true);
    expect(procs[0]!.received.at(-1)).toEqual({ type: 'cancel' });
    procs[0]!.emit({ type: 'done', status: 'cancelled', message: 'Cancelled by the user.', path: null });
    jobs.cancel(stubborn);
    await jobs.whenDone(stubborn);
    expect(procs[1]!.killed).toBe(true);
    expect(events.filter((e) => e.name === 'job:done').map((e) => e.payload.status)).toEqual(['cancelled', 'cancelled']);
    expect(jobs.cancel('no-such-job')).toBe(false);
  });

  it('reports a process that dies as a failed job', () => {
    const { jobs, procs, events } = setup();
    jobs.start(exportSpec);
    procs[0]!.exit(134);
    expect(events.at(-1)!.payload).toMatchObject({ status: 'failed', message: expect.stringContaining('exit code 134') });
  });

  it('removes the hidden partial file an export or a constant-rate copy killed mid-way could not delete, and nothing else', () => {
    for (const kind of ['export', 'conform'] as const) {
      const { jobs, procs } = setup();
      const dir = tempDir('jobs-partial');
      const out = join(dir, 'talk (edit).mp4');
      const names = ['.talk (edit).4242-0badf00d.partial.mp4', '.talk (edit).partial.mp4', '.other.4242-0badf00d.partial.mp4', 'talk (edit).mp4'];
      for (const n of names) writeFileSync(join(dir, n), 'x');
      jobs.start(kind === 'export' ? { ...exportSpec, out } : { kind: 'conform', video: '/v/in.mp4', out });
      procs[0]!.exit(137);
      expect(readdirSync(dir).sort(), kind).toEqual(names.slice(1).sort());
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs helper jobs without events and hands back their result', async () => {
    const { jobs, procs, events } = setup();
    const end = jobs.run({ kind: 'invert-portrait', path: '/i/face.jpg', model: '/m/seeded', modelWritable: true });
    procs[0]!.emit(progress('portrait', 0.1));
    procs[0]!.emit({ type: 'result', wid: new Float32Array([1, 2]) });
    procs[0]!.emit({ type: 'done', status: 'done', message: 'ok', path: null });
    expect(await end).toEqual({ status: 'done', message: 'ok', path: null, wid: new Float32Array([1, 2]), estimate: null });
    expect(events).toEqual([]);
  });

  it('counts an evaluation as writing its project, so no encode or second evaluation writes it meanwhile', () => {
    const { jobs, procs, events } = setup();
    const id = jobs.start({ kind: 'evaluate', project: '/p/a.stylecast', model: '/m/seeded', modelWritable: true });
    expect(jobs.list()).toEqual([{ jobId: id, kind: 'evaluate', out: '/p/a.stylecast' }]);
    expect(jobs.isWriting('/p/a.stylecast')).toBe(true);
    procs[0]!.emit(progress('evaluate', 0.5));
    procs[0]!.emit({ type: 'done', status: 'done', message: 'Evaluated 3 frames.', path: '/p/a.stylecast' });
    expect(events.map((e) => [e.name, e.payload.kind])).toEqual([
      ['job:progress', 'evaluate'],
      ['job:done', 'evaluate']
    ]);
    expect(jobs.isWriting('/p/a.stylecast')).toBe(false);
  });

  it('refuses a second job that would write what a running one writes, where the job starts', () => {
    const { jobs, procs } = setup();
    jobs.start(exportSpec);
    expect(() => jobs.start(exportSpec)).toThrow(/is being written by another job/);
    expect(procs).toHaveLength(1);
    jobs.start({ ...exportSpec, out: '/v/other.mp4' });
    expect(procs).toHaveLength(2);
  });

  it('cancelAll waits for every job to end', async () => {
    const { jobs, procs } = setup(20);
    jobs.start(exportSpec);
    jobs.start({ ...exportSpec, out: '/v/b.mp4' });
    await jobs.cancelAll();
    expect(procs.every((p) => p.killed)).toBe(true);
    expect(jobs.list()).toEqual([]);
  });
});

describe('closeWarning', () => {
  it('says nothing when nothing would be lost', () => {
    expect(closeWarning({ unsavedEdits: false, jobs: [] }, 'quit')).toBeNull();
  });

  it('names the running job and what an interrupted encode keeps', () => {
    expect(closeWarning({ unsavedEdits: false, jobs: [{ jobId: 'a', kind: 'encode', out: '/p.stylecast' }] }, 'quit')).toEqual({
      message: 'Quit Stylecast Studio and stop the running job?',
      detail: 'An encode is running and will be stopped. An interrupted encode keeps the frames encoded so far, and during the identity search its progress of all but the last 2 minutes: open the project and encode again to resume.',
      confirm: 'Stop and Quit'
    });
  });

  it('names a running evaluation, which leaves the last report as it was', () => {
    expect(closeWarning({ unsavedEdits: false, jobs: [{ jobId: 'e', kind: 'evaluate', out: '/p.stylecast' }] }, 'close')).toEqual({
      message: 'Close the window and stop the running job?',
      detail: 'An evaluation is running and will be stopped. An interrupted evaluation leaves the last report as it was.',
      confirm: 'Stop and Close'
    });
  });

  it('asks before discarding unsaved edits', () => {
    expect(closeWarning({ unsavedEdits: true, jobs: [] }, 'close')).toEqual({
      message: 'Close without saving your latest edits?',
      detail: 'Edits made in the last moments have not been saved yet and will be lost.',
      confirm: 'Close Without Saving'
    });
  });
});

describe('imports', () => {
  it('run in a job process of kind model with a heap limit; other jobs get none', () => {
    const asked: unknown[] = [];
    const jobs = new JobManager(
      (options) => {
        asked.push(options);
        return new ScriptedProcess();
      },
      () => {}
    );
    const id = jobs.start({ kind: 'import-model', file: '/c/face.pkl', modelsDir: '/m', catalog: { entries: [], path: '/c.json' } });
    jobs.start(exportSpec);
    expect(asked).toEqual([{ heapLimitMb: 2048 }, undefined]);
    expect(jobs.list()[0]).toEqual({ jobId: id, kind: 'model', out: null });
  });
});
