import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program.command('demo').description('render a latent-walk video from the seeded model').action(async () => {});
}
