// `stylecast puppeteer --tune`: the flags are checked before any engine work, with a one-line
// usage error (exit 2) and nothing written. The tuning itself is tested in test/core/tune/portrait.test.ts.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { runCli } from './run-cli';

const tmp = tempDir('cli-puppet-tune');

describe('stylecast puppeteer --tune', () => {
  it('refuses --tune with a project identity, --tune-steps without --tune, a bad step count, and --tune with --ignore-delta', async () => {
    const motion = join(tmp, 'a.stylecast');
    const project = join(tmp, 'b.stylecast');
    const face = join(tmp, 'face.jpg');
    mkdirSync(motion);
    mkdirSync(project);
    writeFileSync(face, 'not read before the flags are checked');
    const out = join(tmp, 'c.stylecast');
    const run = (...args: string[]) => runCli({ cwd: tmp, timeoutMs: 60_000 }, 'puppeteer', '--motion', motion, '--out', out, ...args);
    const cases: [string[], RegExp][] = [
      [['--identity', project, '--tune'], /--tune tunes on a portrait image, and .*b\.stylecast is a project: a project identity brings its own delta \(tune it with "stylecast tune .*b\.stylecast"\)/],
      [['--identity', face, '--tune-steps', '20'], /--tune-steps only applies with --tune/],
      [['--identity', face, '--tune-rank', '2'], /--tune-rank only applies with --tune/],
      [['--identity', face, '--tune', '--tune-steps', '0'], /--tune-steps/],
      [['--identity', face, '--tune', '--ignore-delta'], /--ignore-delta applies to a project identity, --tune to a portrait/]
    ];
    for (const [args, re] of cases) {
      const r = await run(...args);
      const lines = r.stderr.trim().split('\n');
      expect(r.status, r.stderr).toBe(2);
      expect(lines.at(-1)).toMatch(re);
    }
    expect(readdirSync(tmp).sort()).toEqual(['a.stylecast', 'b.stylecast', 'face.jpg']);
  }, 120_000);
});
