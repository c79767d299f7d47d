import type { Command } from 'commander';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { printJson, result, UsageError } from '../errors';
import { num } from '../options';
import { checkOutputFile } from '../output';

/** A JSON file holding an array of numbers (nested arrays are flattened). */
function readVector(file: string, flag: string): Float32Array {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (e) {
    throw new UsageError(`${flag} ${file}: cannot read a JSON array (${(e as Error).message.split('\n')[0]})`);
  }
  const flat = Array.isArray(v) ? (v as unknown[]).flat(2) : null;
  if (!flat || flat.length === 0 || flat.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new UsageError(`${flag} ${file}: expected a JSON array of finite numbers`);
  }
  return Float32Array.from(flat as number[]);
}

/** 8-bit RGB as the official generate.py converts: x * 127.5 + 128, clamped to 0..255, truncated. */
async function toPng(img: Float32Array, res: number): Promise<Buffer> {
  const { encodeRgbPng } = await import('../../core/util/png');
  const plane = res * res;
  const rgb = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.trunc(Math.min(255, Math.max(0, img[c * plane + p]! * 127.5 + 128)));
  return encodeRgbPng({ data: rgb, width: res, height: res });
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('render one image from z or w with constant noise (official noise_mode "const")')
    .requiredOption('--model <dir>', 'model bundle folder')
    .option('--z <file>', 'JSON array of zDim numbers (z, mapped by the mapping network)')
    .option('--w <file>', 'JSON array of wDim numbers (broadcast to every ws) or numWs x wDim numbers (W+)')
    .option('--truncation <psi>', 'truncation psi: w = w_avg + psi * (w - w_avg) on every ws', '1')
    .requiredOption('--out <png>', 'PNG image to write')
    .option('--raw <file>', 'also write the image as little-endian float32 NCHW [1,3,R,R] in the generator range (about -1..1)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      if (Boolean(o.z) === Boolean(o.w)) throw new UsageError('give exactly one of --z and --w');
      const psi = num(o.truncation, '--truncation');
      const out = checkOutputFile(o.out);
      const raw = o.raw ? checkOutputFile(o.raw, '--raw') : undefined;
      const [{ loadBundle }, { Generator }, { broadcastW, truncate }, { Runtime }] = await Promise.all([
        import('../../core/model/bundle'),
        import('../../core/model/generator'),
        import('../../core/model/stylegan2'),
        import('../../core/runtime')
      ]);
      const bundle = loadBundle(resolve(o.model));
      const a = bundle.manifest.architecture;
      const rt = await Runtime.create({ device: program.opts().device });
      const gen = new Generator(bundle, rt);
      const nWs = gen.net.numWs;
      let wplus: Float32Array;
      if (o.z) {
        const z = readVector(o.z, '--z');
        if (z.length !== a.zDim) throw new UsageError(`--z ${o.z}: has ${z.length} numbers, the model's z has ${a.zDim}`);
        wplus = broadcastW(await gen.mapping(z, 1), 1, nWs, a.wDim);
      } else {
        const w = readVector(o.w, '--w');
        if (w.length === a.wDim) wplus = broadcastW(w, 1, nWs, a.wDim);
        else if (w.length === nWs * a.wDim) wplus = w;
        else throw new UsageError(`--w ${o.w}: has ${w.length} numbers; the model needs ${a.wDim} (one w) or ${nWs * a.wDim} (W+, ${nWs} x ${a.wDim})`);
      }
      if (psi !== 1) wplus = truncate(wplus, gen.net.wAvg, psi);
      const img = await gen.render(wplus, 1);
      const { writeFileAtomicSync } = await import('../../core/util/fs');
      writeFileAtomicSync(out, await toPng(img, a.resolution));
      if (raw) {
        const le = Buffer.alloc(img.length * 4);
        for (let i = 0; i < img.length; i++) le.writeFloatLE(img[i]!, i * 4);
        writeFileAtomicSync(raw, le);
      }
      const summary = { model: bundle.manifest.name, id: bundle.manifest.id, resolution: a.resolution, numWs: nWs, truncation: psi, input: o.z ? 'z' : 'w', png: out, raw: raw ?? null, shape: [1, 3, a.resolution, a.resolution] };
      if (o.json) printJson(summary);
      else result(`wrote ${out}${raw ? ` and ${raw}` : ''} (${a.resolution}x${a.resolution}, psi ${psi})`);
    });
}
