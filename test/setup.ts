// Runs in each test file before its tests (vitest.config.ts, setupFiles). Its afterAll is
// registered first, so it runs after the file's own (vitest stacks them): the folders the file's
// tests made with tempDir are removed once nothing of the file uses them.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dirs';

afterAll(() => removeTempDirs());
