// stylecast: the command-line tool over src/core. Start-up stays light: each command
// module declares its options with nothing heavy imported, and loads the engine (and
// onnxruntime-node) inside its action, so `--help`, `info` and usage errors start fast.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench';
import { registerCalibrate } from './commands/calibrate';
import { registerSynth } from './commands/synth';
import { registerEncode } from './commands/encode';
import { registerRender } from './commands/render';
import { registerInfo } from './commands/info';
import { registerEval } from './commands/eval';
import { registerAlign } from './commands/align';
import { registerConform } from './commands/conform';
import { registerPuppeteer } from './commands/puppeteer';
import { registerDemo } from './commands/demo';
import { registerTune } from './commands/tune';
import { registerGradcheck } from './commands/gradcheck';
import { registerModel } from './commands/model';
import { registerPerceptual } from './commands/perceptual';
import { registerImport } from './commands/import';
import { registerGenerate } from './commands/generate';
import { registerModels } from './commands/models';
import { EXIT, fail, stopSignal } from './errors';
import { repoRoot } from './paths';
import { installSignalHandlers } from './signals';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

const program = new Command();
program
  .name('stylecast')
  .description('Stylecast Studio command-line tool: StyleGAN2 talking-head encoding on onnxruntime-node')
  .version(version, '-V, --version', 'print the version')
  .option('--device <device>', 'auto, cpu or cuda (env STYLECAST_DEVICE)', process.env.STYLECAST_DEVICE ?? 'auto')
  .showHelpAfterError();

registerModel(program);
registerPerceptual(program);
registerImport(program);
registerGenerate(program);
registerModels(program);
registerGradcheck(program);
registerBench(program);
registerCalibrate(program);
registerSynth(program);
registerEncode(program);
registerRender(program);
registerTune(program);
registerInfo(program);
registerEval(program);
registerAlign(program);
registerConform(program);
registerPuppeteer(program);
registerDemo(program);

// Commander's own outcomes: help asked for and --version exit 0; help shown because no
// (sub)command was given, and every parsing error, are usage errors.
const exitOverride = (err: CommanderError): never => {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(EXIT.ok);
  process.exit(EXIT.usage);
};
const applyExitOverride = (c: Command): void => {
  c.exitOverride(exitOverride);
  c.commands.forEach(applyExitOverride);
};
applyExitOverride(program);

installSignalHandlers();
try {
  await program.parseAsync(process.argv);
  const sig = stopSignal();
  if (sig) process.exit(EXIT[sig]);
} catch (e) {
  fail(e);
}
