// The progress line: redrawn in place on a terminal, plain lines at a modest rate otherwise;
// rate and ETA from the stage's own pace (a controlled clock, real formatting).
import { describe, expect, it } from 'vitest';
import { ProgressLine, formatDuration } from '../../src/cli/progress';

function sink(tty: boolean) {
  const out: string[] = [];
  return { out, stream: { write: (s: string) => out.push(s), isTTY: tty, columns: 60 } };
}

describe('ProgressLine', () => {
  it('on a terminal redraws one line with stage, percent, count, rate and ETA, and keeps log lines above it', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const p = new ProgressLine(stream, { now: () => t });
    p.update({ stage: 'frames', fraction: 0.4, done: 0, total: 10, unit: 'frame' });
    t = 4000;
    // 4 frames in 4 s: 1 frame/s; 0.4 -> 0.6 of the job in 4 s leaves 0.4, i.e. 8 s.
    p.update({ stage: 'frames', fraction: 0.6, done: 4, total: 10, unit: 'frame' });
    expect(out).toEqual(['\r\x1b[2K[frames]  40% 0/10', '\r\x1b[2K[frames]  60% 4/10 1.0 frame/s ETA 8s']);
    p.log('a warning');
    expect(out.slice(2)).toEqual(['\r\x1b[2Ka warning\n', '[frames]  60% 4/10 1.0 frame/s ETA 8s']);
    t = 4050; // within the redraw interval: nothing drawn
    p.update({ stage: 'frames', fraction: 0.61, done: 4, total: 10, unit: 'frame' });
    expect(out).toHaveLength(4);
    p.end();
    expect(out[4]).toBe('\n');
  });

  it('takes the job ETA when given, and cuts the line to the terminal width', () => {
    const { out, stream } = sink(true);
    const p = new ProgressLine(stream, { now: () => 0 });
    p.update({ stage: 'identity', fraction: 0.2, etaSec: 125, detail: 'inverting 2 candidate frames (40/300), loss 0.12345' });
    expect(out[0]).toBe('\r\x1b[2K[identity]  20% ETA 2m05s inverting 2 candidate frames (40…');
    expect(out[0]!.length - '\r\x1b[2K'.length).toBe(59);
  });

  it('off a terminal prints a line when a stage starts or ends and at most every interval in between', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const p = new ProgressLine(stream, { now: () => t, intervalMs: 2000 });
    for (let i = 0; i <= 10; i++) {
      t = i * 500;
      p.update({ stage: 'align', fraction: i / 10, done: i, total: 10, unit: 'frame' });
    }
    t = 5100;
    p.update({ stage: 'identity', fraction: 0 });
    expect(out).toEqual([
      '[align]   0% 0/10\n',
      '[align]  40% 4/10 2.0 frame/s ETA 3s\n',
      '[align]  80% 8/10 2.0 frame/s ETA 1s\n',
      '[align] 100% 10/10 2.0 frame/s\n',
      '[identity]   0%\n'
    ]);
  });

  it('formats durations', () => {
    expect([formatDuration(0.4), formatDuration(59.6), formatDuration(61), formatDuration(3725), formatDuration(NaN)]).toEqual(['0s', '1m00s', '1m01s', '1h02m', '?']);
  });
});
