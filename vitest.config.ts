import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests never touch the user's own models folder (~/.config/Stylecast Studio/models): every test
// process, and every CLI it spawns, gets a fresh one unless a test sets its own.
const models = mkdtempSync(join(tmpdir(), 'stylecast-test-models-'));
// Removed when the run ends (the folders tests make are removed after each file: test/setup.ts).
process.on('exit', () => rmSync(models, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    // Several beforeAll hooks create and calibrate a seeded model: 1-2 minutes idle, more when
    // benchmarks share the two cores. Files whose hooks need longer pass their own limit.
    hookTimeout: 300_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: false, maxForks: 2 } },
    env: { STYLECAST_MODELS_DIR: models }
  }
});
