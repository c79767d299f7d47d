import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src/shared/csp';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Loaded from node_modules at run time, never bundled: native addons and
 * packages that locate a bundled binary relative to their own folder.
 * (externalizeDepsPlugin covers `dependencies`; ffmpeg-static is optional.)
 */
export const RUNTIME_PACKAGES = ['onnxruntime-node', '@ffmpeg-installer/ffmpeg', '@ffprobe-installer/ffprobe', 'ffmpeg-static', '@resvg/resvg-js', '@vladmandic/face-api'];
const runtimeExternal = [...RUNTIME_PACKAGES, ...RUNTIME_PACKAGES.map((p) => new RegExp(`^${p.replace('/', '\\/')}/`))];

/**
 * Writes the shared policy into index.html's CSP meta tag, so main's header and
 * the page agree; the dev server's variant also allows its HMR websocket.
 */
function cspMetaPlugin(): Plugin {
  let dev = false;
  return {
    name: 'stylecast:csp-meta',
    configResolved(config) {
      dev = config.command === 'serve';
    },
    transformIndexHtml(html) {
      const meta = /<meta http-equiv="Content-Security-Policy" content="[^"]*"\s*\/?>/;
      if (!meta.test(html)) throw new Error('src/renderer/index.html must keep its Content-Security-Policy meta tag');
      return html.replace(meta, `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy({ dev })}" />`);
    }
  };
}

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: resolve(root, 'out/main'),
      rollupOptions: {
        // job-worker runs encode, export and puppeteering in Electron utility processes; cli is
        // the compiled `stylecast` command that bin/stylecast.mjs runs outside a source checkout.
        input: { index: resolve(root, 'src/main/index.ts'), 'job-worker': resolve(root, 'src/main/jobs/worker.ts'), cli: resolve(root, 'src/cli/index.ts') },
        external: runtimeExternal
      }
    }
  },
  preload: {
    // A sandboxed preload runs as a CommonJS script with only 'electron' and a
    // few built-ins to require, so everything else is bundled into it.
    build: {
      outDir: resolve(root, 'out/preload'),
      rollupOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    plugins: [react(), cspMetaPlugin()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rollupOptions: {
        input: { index: resolve(root, 'src/renderer/index.html') }
      }
    }
  }
});
