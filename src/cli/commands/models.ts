import type { Command } from 'commander';
import type { DownloadProgress } from '../../core/model/manager';
import { printJson, progress, result } from '../errors';
import { int } from '../options';
import { checkOutputDir } from '../output';
import { modelsDir } from '../paths';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';
import { importFiles, importOptions } from './import-files';
import { registerModelsMigrate } from './models-migrate';

const mb = (n: number): string => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`);

/** A download's progress on the progress line: percent, rate and ETA when the size is known. */
function showDownload(label: string): (p: DownloadProgress) => void {
  let t0 = 0;
  let received0 = 0;
  return (p) => {
    if (p.resumedFrom) progress(`resuming ${label} from ${mb(p.resumedFrom)}`);
    const now = performance.now();
    if (!t0) [t0, received0] = [now, p.received];
    const sec = (now - t0) / 1000;
    const rate = sec > 0.2 ? `, ${mb((p.received - received0) / sec)}/s` : '';
    const size = p.fraction === null ? mb(p.received) : `${mb(p.received)} of ${mb(p.total!)}`;
    stderrProgress.update({ stage: label, fraction: p.fraction ?? 0, detail: `${size}${rate}` });
  };
}

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description(`list, download, import, remove and migrate models (in the per-user models folder, or ${'$'}STYLECAST_MODELS_DIR; mirror: ${'$'}STYLECAST_MODEL_MIRROR)`);
  registerModelsMigrate(models);

  models
    .command('list')
    .description('installed bundles and perceptual weights, and catalogue models not installed yet')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const { listModels, loadCatalog } = await import('../../core/model/manager');
      const l = await listModels(modelsDir(), loadCatalog());
      if (o.json) return printJson(l);
      const out: string[] = [`models in ${l.modelsDir}`];
      if (l.bundles.length === 0) out.push('  (no bundles)');
      for (const b of l.bundles) {
        out.push(`  ${b.folder.padEnd(24)} ${`${b.resolution}x${b.resolution}`.padEnd(10)} ${(b.calibrated ? 'calibrated' : 'not calibrated').padEnd(15)} ${mb(b.bytes).padStart(10)}  id ${b.id}${b.isDefault ? '  (default)' : ''}`);
      }
      for (const s of l.skipped) out.push(`  unusable: ${s.path}: ${s.reason}`);
      for (const p of l.perceptual) out.push(`  perceptual/${p.path.split(/[\\/]/).pop()!.padEnd(13)} ${p.name.padEnd(16)} ${mb(p.bytes).padStart(10)}`);
      if (l.perceptualBundle) out.push(`  perceptual/lpips-vgg            LPIPS-VGG bundle (the encoder's perceptual loss)`);
      if (l.available.length > 0) {
        out.push('available to download (stylecast models download NAME):');
        for (const a of l.available) {
          const size = a.bytes === null ? 'size not published' : mb(a.bytes);
          const part = a.partial ? `, ${mb(a.partial.received)} downloaded so far` : '';
          out.push(`  ${a.name.padEnd(24)} ${a.kind.padEnd(20)} ${size}${part}; ${a.licence}`);
        }
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });

  models
    .command('download <name>')
    .description('download a catalogue model (resumable, checksum-verified); generators are imported into a bundle')
    .option('--retries <n>', 'automatic resumes after a dropped connection', '3')
    .option('--keep-file', 'keep the raw checkpoint in downloads/ after importing it')
    .option('--accept-unpinned', 'install an entry whose publisher gives no SHA-256, on trust: the digest of what arrives is recorded and later downloads must match it')
    .option('--json', 'print one JSON object on stdout')
    .action(async (name: string, o) => {
      const retries = int(o.retries, '--retries', 0);
      const root = checkOutputDir(modelsDir(), 'the models folder');
      const { downloadModel } = await import('../../core/model/manager');
      const r = await downloadModel(name, {
        modelsDir: root,
        signal: commandSignal,
        retries,
        keepFile: Boolean(o.keepFile),
        acceptUnpinned: Boolean(o.acceptUnpinned),
        onProgress: showDownload(name),
        onLog: progress
      });
      stderrProgress.end();
      if (o.json) printJson(r);
      else if (r.alreadyInstalled) result(`${r.name} is already installed at ${r.path}`);
      else result(`installed ${r.name} at ${r.path}${r.trust === 'first-use' ? ' (no published checksum: accepted on trust; its SHA-256 is now recorded and pinned)' : ' (SHA-256 verified)'}`);
    });

  importOptions(
    models
      .command('import [files...]')
      .description('install a file fetched by hand: a StyleGAN2 checkpoint (.pkl/.pt/.pth) becomes a bundle; VGG16 or LPIPS weights are recognised by checksum, or imported as a pair (two files, or --vgg and --lpips) into the perceptual bundle. "stylecast import" and "stylecast perceptual import" are aliases')
  ).action((files: string[], o) => importFiles({ files, ...o }));

  models
    .command('remove <name>')
    .description('remove a bundle folder from the models directory (or stored perceptual weights by catalogue name)')
    .option('--force', 'also remove the default seeded model')
    .option('--json', 'print one JSON object on stdout')
    .action(async (name: string, o) => {
      const { removeModel } = await import('../../core/model/manager');
      const r = removeModel(name, { modelsDir: modelsDir(), force: Boolean(o.force) });
      if (o.json) printJson(r);
      else result(`removed ${r.path}`);
    });
}
