import type { Command } from 'commander';
import { type DownloadProgress, downloadModel, importModelFile, listModels, loadCatalog, removeModel } from '../../core/model/manager';
import { printJson, progress } from '../errors';
import { int } from '../options';
import { modelsDir } from '../paths';
import { registerModelsMigrate } from './models-migrate';

const mb = (n: number): string => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`);

/** Progress lines on stderr: every 5% (or every 2 s when the size is unknown), in place on a terminal. */
function progressPrinter(label: string): (p: DownloadProgress) => void {
  const tty = process.stderr.isTTY;
  let lastStep = -1;
  let lastTime = 0;
  return (p) => {
    if (p.resumedFrom) progress(`resuming ${label} from ${mb(p.resumedFrom)}`);
    const now = Date.now();
    const step = p.fraction === null ? -1 : Math.floor(p.fraction * 20);
    const done = p.fraction === 1;
    if (!done && (p.fraction === null ? now - lastTime < 2000 : step === lastStep)) return;
    lastStep = step;
    lastTime = now;
    const line = p.fraction === null ? `${label}: ${mb(p.received)}` : `${label}: ${(p.fraction * 100).toFixed(0)}% (${mb(p.received)} of ${mb(p.total!)})`;
    if (tty) process.stderr.write(`\r${line}${done ? '\n' : ''}`);
    else progress(line);
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
      const ac = new AbortController();
      const onSigint = () => ac.abort('download interrupted; run the same command again to resume');
      process.once('SIGINT', onSigint);
      try {
        const r = await downloadModel(name, {
          modelsDir: modelsDir(),
          signal: ac.signal,
          retries: int(o.retries, '--retries', 0),
          keepFile: Boolean(o.keepFile),
          acceptUnpinned: Boolean(o.acceptUnpinned),
          onProgress: progressPrinter(name),
          onLog: progress
        });
        if (o.json) printJson(r);
        else if (!r.alreadyInstalled) {
          const how = r.trust === 'first-use' ? ' (no published checksum: accepted on trust; its SHA-256 is now recorded and pinned)' : ' (SHA-256 verified)';
          progress(`installed ${r.name} at ${r.path}${how}`);
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  models
    .command('import <file>')
    .description('install a file fetched by hand: a StyleGAN2 checkpoint (.pkl/.pt/.pth) becomes a bundle; VGG16 or LPIPS weights are recognised by checksum')
    .option('--name <name>', 'bundle folder name (default: from the file name)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (file: string, o) => {
      const r = await importModelFile(file, { modelsDir: modelsDir(), ...(o.name ? { name: o.name } : {}), onLog: progress });
      if (o.json) printJson(r);
      else progress(`imported ${file} to ${r.path}`);
    });

  models
    .command('remove <name>')
    .description('remove a bundle folder from the models directory (or stored perceptual weights by catalogue name)')
    .option('--force', 'also remove the default seeded model')
    .option('--json', 'print one JSON object on stdout')
    .action((name: string, o) => {
      const r = removeModel(name, { modelsDir: modelsDir(), force: Boolean(o.force) });
      if (o.json) printJson(r);
      else progress(`removed ${r.path}`);
    });
}
