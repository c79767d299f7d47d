// `stylecast bench startup`, and the start-up section of `stylecast bench --json`.
import type { Command } from 'commander';
import { printJson, progress, result } from '../errors';
import { int } from '../options';
import type { StartupTimes } from '../startup';

export async function startupSection(runs = 7): Promise<StartupTimes> {
  progress(`bench start-up: node -e 0, stylecast --help and stylecast info, ${runs} runs each...`);
  return (await import('../startup')).measureStartup(runs);
}

export function registerBenchStartup(bench: Command): void {
  bench
    .command('startup')
    .description('time how long "stylecast --help" and "stylecast info" take to start, against a plain "node -e 0" (takes bench\'s --runs and --json)')
    .action(async () => {
      const o = bench.opts(); // bench's own --runs and --json, which commander gives the parent
      const s = await startupSection(int(o.runs, '--runs', 1));
      if (o.json) return printJson({ startup: s });
      result(
        `start-up, median of ${s.runs} runs:`,
        `  node -e 0          ${s.nodeMs.toFixed(0).padStart(5)} ms`,
        `  stylecast --help   ${s.helpMs.toFixed(0).padStart(5)} ms (+${s.helpOverNodeMs.toFixed(0)} ms)`,
        `  stylecast info P   ${s.infoMs.toFixed(0).padStart(5)} ms (+${s.infoOverNodeMs.toFixed(0)} ms)`
      );
    });
}
