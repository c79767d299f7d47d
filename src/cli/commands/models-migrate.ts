// `stylecast models migrate`: moves bundles from the old models folder (<repo>/models) into
// the per-user folder that the studio and the CLI share.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { findLegacyModels, migrateLegacyModels } from '../../core/model/user-models';
import { printJson } from '../errors';
import { legacyModelsDir, modelsDir } from '../paths';

export function registerModelsMigrate(models: Command): void {
  models
    .command('migrate')
    .description('move model bundles from the old models folder (<repo>/models) into the per-user models folder; never overwrites')
    .option('--from <dir>', 'the old folder (default: models/ of this installation)')
    .option('--json', 'print one JSON object on stdout')
    .action((o) => {
      const from = resolve(o.from ?? legacyModelsDir());
      const to = modelsDir();
      const found = findLegacyModels(from, to);
      const r = migrateLegacyModels(found, to);
      if (o.json) return printJson({ from, to, ...r });
      const lines = [r.moved.length ? `moved ${r.moved.join(', ')} from ${from} to ${to}` : `nothing to move from ${from} to ${to}`];
      if (r.skipped.length) lines.push(`left in place (already in ${to}): ${r.skipped.join(', ')}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
