// stylecast: the command-line tool over src/core.
import { Command } from 'commander';
import { registerBench } from './commands/bench';
import { registerCalibrate } from './commands/calibrate';
import { registerSynth } from './commands/synth';
import { registerEncode } from './commands/encode';
import { registerRender } from './commands/render';
import { registerInfo } from './commands/info';
import { registerEval } from './commands/eval';
import { registerAlign } from './commands/align';
import { registerPuppeteer } from './commands/puppeteer';
import { registerDemo } from './commands/demo';
import { registerTune } from './commands/tune';
import { registerGradcheck } from './commands/gradcheck';
import { registerModel } from './commands/model';
import { registerPerceptual } from './commands/perceptual';
import { registerImport } from './commands/import';
import { registerGenerate } from './commands/generate';
import { registerModels } from './commands/models';
import { fail } from './errors';

const program = new Command();
program
  .name('stylecast')
  .description('Stylecast Studio command-line tool: StyleGAN2 talking-head encoding on onnxruntime-node')
  .option('--device <device>', 'auto, cpu or cuda (env STYLECAST_DEVICE)', process.env.STYLECAST_DEVICE ?? 'auto')
  .showHelpAfterError()
  .exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(0);
    process.exit(err.exitCode || 2);
  });

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
registerPuppeteer(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
