import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { CheckResult } from '../../core/graph/gradcheck';
import { defaultModelDir } from '../paths';
import { printJson, progress, result } from '../errors';
import { commandSignal } from '../signals';

export function registerGradcheck(program: Command): void {
  program
    .command('gradcheck')
    .description('check every gradient rule and whole-network gradients against finite differences run through onnxruntime-node')
    .option('--model <dir>', 'model bundle for the whole-network checks (default: the seeded model)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const [{ opChecks }, { runCheck, checkPassed }, { loadBundle }, { modelChecks }, { ensureSeededModel }, { perceptualChecks }, { Runtime }, { throwIfAborted }] = await Promise.all([
        import('../../core/graph/checks'),
        import('../../core/graph/gradcheck'),
        import('../../core/model/bundle'),
        import('../../core/model/checks'),
        import('../../core/model/defaults'),
        import('../../core/perceptual/checks'),
        import('../../core/runtime'),
        import('../../core/util/cancel')
      ]);
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = o.model ? loadBundle(resolve(o.model)) : await ensureSeededModel(defaultModelDir(), rt, progress);
      // Whole networks get a smaller step: see gradcheck.ts on float32 rounding and kinks.
      const cases = [...opChecks(), ...perceptualChecks(), ...modelChecks(bundle).map((c) => ({ ...c, step: 1e-4 }))];
      const checks: CheckResult[] = [];
      for (const c of cases) {
        throwIfAborted(commandSignal);
        const r = await runCheck(rt, c);
        checks.push(r);
        const line = `${checkPassed(r) ? 'ok  ' : 'FAIL'} ${r.relError.toExponential(2)}${r.untilted ? ` (untilted ${r.untilted.relError.toExponential(2)})` : ''}  ${c.name}${r.nonFinite ? `: ${r.nonFinite}` : ''}`;
        if (o.json) progress(line);
        else result(line);
      }
      const failed = checks.filter((r) => !checkPassed(r));
      const maxRelError = Math.max(...checks.map((c) => c.relError));
      const maxUntilted = Math.max(0, ...checks.map((c) => c.untilted?.relError ?? 0));
      if (o.json) {
        printJson({
          checks: checks.map((r) => ({ name: r.name, passed: checkPassed(r), relError: r.relError, ...(r.untilted ? { untiltedRelError: r.untilted.relError } : {}), ...(r.nonFinite ? { nonFinite: r.nonFinite } : {}) })),
          maxRelError,
          maxUntiltedRelError: maxUntilted,
          failed: failed.length
        });
      } else result(`${failed.length ? `${failed.length} FAILED` : 'all passed'}: max relative error ${maxRelError.toExponential(2)} (tilted), ${maxUntilted.toExponential(2)} (untilted) over ${checks.length} checks`);
      if (failed.length) process.exitCode = 1;
    });
}
