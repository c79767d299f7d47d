// The one import path behind `models import`, `import` and `perceptual import`: a StyleGAN2
// checkpoint becomes a model bundle; VGG16 weights and LPIPS heads become the perceptual
// bundle (recognised by the catalogue's checksum, or given as a pair).
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { UsageError, printJson, progress, result } from '../errors';
import { num } from '../options';
import { checkOutputDir } from '../output';
import { modelsDir } from '../paths';
import { commandSignal } from '../signals';

export interface ImportRequest {
  files: string[];
  vgg?: string;
  lpips?: string;
  out?: string;
  name?: string;
  convClamp?: string;
  json?: boolean;
}

/** The options every import spelling shares (the checkpoint and perceptual flags). */
export function importOptions(c: Command): Command {
  return c
    .option('--out <dir>', 'bundle folder to write (default: a folder named after the file in the models folder)')
    .option('--name <name>', 'bundle name (default: from the file name)')
    .option('--conv-clamp <x>', 'conv_clamp for state dicts with official names, which do not record it (pickles carry their own)')
    .option('--vgg <pth>', 'torchvision VGG16 weights (features.N.weight / .bias), imported with --lpips into the perceptual bundle')
    .option('--lpips <pth>', 'LPIPS v0.1 VGG heads (lin0..lin4), imported with --vgg')
    .option('--json', 'print one JSON object on stdout');
}

type Kind = 'vgg' | 'lpips' | 'other';

async function kindOf(file: string): Promise<Kind> {
  const { readStateDict } = await import('../../core/model/import');
  let keys: string[];
  try {
    keys = [...(await readStateDict(resolve(file))).keys()];
  } catch {
    return 'other';
  }
  if (keys.some((k) => /^features\.\d+\.weight$/.test(k))) return 'vgg';
  if (keys.some((k) => /^lin\d\.model\.1\.weight$/.test(k))) return 'lpips';
  return 'other';
}

export async function importFiles(r: ImportRequest): Promise<void> {
  const convClamp = r.convClamp === undefined ? null : num(r.convClamp, '--conv-clamp');
  if (convClamp !== null && convClamp <= 0) throw new UsageError('--conv-clamp must be positive');
  let vgg = r.vgg;
  let lpips = r.lpips;
  if (Boolean(vgg) !== Boolean(lpips)) throw new UsageError('give --vgg and --lpips together');
  if (vgg && r.files.length > 0) throw new UsageError('give either files or --vgg and --lpips, not both');
  if (!vgg && r.files.length === 2) {
    const kinds = await Promise.all(r.files.map(kindOf));
    vgg = r.files[kinds.indexOf('vgg')];
    lpips = r.files[kinds.indexOf('lpips')];
    if (!vgg || !lpips) throw new UsageError(`two files import as the perceptual bundle only when one holds VGG16 weights and the other LPIPS heads; ${r.files.join(' and ')} do not`);
  }
  if (!vgg && r.files.length !== 1) throw new UsageError('give one checkpoint, or the VGG16 and LPIPS files of the perceptual bundle');

  if (vgg && lpips) {
    const [{ existsSync }, { importPerceptual, DEFAULT_PERCEPTUAL_NAME }] = await Promise.all([import('node:fs'), import('../../core/perceptual')]);
    for (const [flag, p] of [['--vgg', vgg], ['--lpips', lpips]] as const) if (!existsSync(resolve(p))) throw new UsageError(`${flag}: ${p} does not exist`);
    const out = checkOutputDir(r.out ?? join(modelsDir(), 'perceptual', DEFAULT_PERCEPTUAL_NAME));
    progress(`importing LPIPS-VGG from ${vgg} and ${lpips}`);
    const rep = await importPerceptual({ vgg: resolve(vgg), lpips: resolve(lpips), out, name: r.name ?? DEFAULT_PERCEPTUAL_NAME });
    if (r.json) return printJson({ kind: 'perceptual', ...rep, path: out });
    return result(`wrote the perceptual bundle ${out}: id ${rep.id}, VGG16 layer widths ${rep.tapChannels.join('/')}, ${rep.parameters} parameters`);
  }

  const file = r.files[0]!;
  let outcome: { kind: 'bundle' | 'perceptual'; path: string; catalogName?: string; report?: unknown };
  if (r.out !== undefined || convClamp !== null) {
    // An explicit folder (or an option only the checkpoint importer takes): straight to it.
    const out = checkOutputDir(r.out ?? join(modelsDir(), r.name ?? 'imported'));
    const { importCheckpoint } = await import('../../core/model/import');
    const report = await importCheckpoint(resolve(file), out, { name: r.name, convClamp, signal: commandSignal, onProgress: progress });
    outcome = { kind: 'bundle', path: out, report };
  } else {
    const root = checkOutputDir(modelsDir());
    const { importModelFile } = await import('../../core/model/manager');
    outcome = await importModelFile(file, { modelsDir: root, ...(r.name ? { name: r.name } : {}), signal: commandSignal, onLog: progress });
  }
  const rep = (outcome.report ?? {}) as Partial<import('../../core/model/import').ImportReport>;
  if (r.json) return printJson({ kind: outcome.kind, ...(outcome.catalogName ? { catalogName: outcome.catalogName } : {}), ...rep, path: outcome.path });
  if (outcome.kind === 'perceptual' || rep.format === undefined) return result(`imported ${file} to ${outcome.path}${outcome.catalogName ? ` (${outcome.catalogName})` : ''}`);
  const ch = Object.entries(rep.channels ?? {}).map(([res, c]) => `${res}:${c}`).join(' ');
  result(
    `format        ${rep.format} (${rep.container})`,
    `resolution    ${rep.resolution}x${rep.resolution}, ${rep.numWs} ws, z ${rep.zDim}, w ${rep.wDim}, StyleSpace ${rep.styleDim}`,
    `channels      ${ch}`,
    `mapping       ${rep.mappingLayers} layers, lr multiplier ${rep.mappingLrMul}`,
    `conv_clamp    ${rep.convClamp ?? 'none'}`,
    `fp16          ${rep.fp16Resolutions?.length ? `${rep.fp16Resolutions.join(', ')} (computed in float32 here)` : 'none'}`,
    `w_avg         ${rep.wAvg === 'file' ? 'from the file' : 'estimated from 4096 random z (the file has none)'}`,
    ...(rep.notes ?? []).map((n) => `note          ${n}`),
    `wrote ${outcome.path}: id ${rep.id}, ${rep.parameters} parameters`
  );
}
