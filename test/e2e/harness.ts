// The studio in a real browser over the real engine: Vite serves src/renderer
// with the app's own renderer config (CSP included), Debian's Chromium runs it
// through playwright-core, and window.stylecast is bridged with exposeBinding
// to the same core API handlers Electron main registers, validated by the same
// registerHandlers. Events go back into the page through a small shim that
// stands in for the preload script. Dialogs answer what the test queued.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type InlineConfig, type Plugin, type ViteDevServer } from 'vite';
import electronViteConfig from '../../electron.vite.config';
import { createCoreApi, type CoreApi } from '../../src/main/core-api';
import { appUrlMatcher, registerHandlers, type InvokeEventLike } from '../../src/main/ipc';
import { FakeIpcMain, ScriptedHost } from '../main/fake-host';
import { Runtime } from '../../src/core/runtime';
import { calibratedSeededModel, repoRoot } from '../helpers';

export const CHROMIUM = '/usr/bin/chromium';
/** ENVIRONMENT.md, "Browser tests". */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOTS = join(repoRoot, 'test-results', 'e2e');
const MEDIA_ROUTE = '/__stylecast-media/';

export interface Studio {
  page: Page;
  host: ScriptedHost;
  api: CoreApi<InvokeEventLike>;
  url: string;
  /** Uncaught page errors and console errors seen so far. */
  pageErrors: string[];
  /** Every API call the page made, in order, with its payload and how it ended. */
  calls: { name: string; payload: unknown; error: string | null }[];
  /** Calls a contract method as the page would (validated the same way). */
  invoke<T = unknown>(name: string, payload?: unknown): Promise<T>;
  /** Saves a PNG of the window under test-results/e2e/NAME.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** The shim the preload script is in the app: window.stylecast, exactly the contract's three functions (invoke, on, openDroppedFile). */
function preloadShim(): void {
  type Listener = (payload: unknown) => void;
  // globalThis is the page's window (this file is type-checked without the DOM library).
  const w = globalThis as unknown as Record<string, unknown>;
  const invokeBinding = w.__stylecastInvoke as (name: string, args: unknown[]) => Promise<unknown>;
  const listeners = new Map<string, Set<Listener>>();
  w.__stylecastDispatch = (name: string, payload: unknown) => {
    for (const l of [...(listeners.get(name) ?? [])]) {
      try {
        l(payload);
      } catch (e) {
        console.error(e);
      }
    }
  };
  const api = {
    invoke: (name: string, ...args: unknown[]) =>
      // As preload: the preload-only method is reached through openDroppedFile alone.
      name === 'file:openDropped' ? Promise.reject(new Error(`"${name}" is not a Stylecast API method`)) : invokeBinding(name, args),
    on(name: string, listener: Listener) {
      if (typeof listener !== 'function') throw new Error(`stylecast.on("${name}"): the listener must be a function`);
      const set = listeners.get(name) ?? new Set<Listener>();
      set.add(listener);
      listeners.set(name, set);
      return () => void set.delete(listener);
    },
    // Electron's webUtils.getPathForFile stands in as the paths the test dropped, by name.
    openDroppedFile: async (file: File) => {
      const path = (w.__stylecastFilePaths as Record<string, string> | undefined)?.[file.name] ?? '';
      return path ? invokeBinding('file:openDropped', [{ path }]) : null;
    }
  };
  Object.defineProperty(globalThis, 'stylecast', { value: Object.freeze(api), enumerable: true });
}

function mediaPlugin(api: () => CoreApi<InvokeEventLike>): Plugin {
  return {
    name: 'stylecast:e2e-media',
    configureServer(server) {
      server.middlewares.use(MEDIA_ROUTE, (req: IncomingMessage, res: ServerResponse) => {
        const token = (req.url ?? '').replace(/^\//, '').split('?')[0]!;
        void api()
          .media.respond(token, req.headers.range ?? null, req.method ?? 'GET')
          .then((r) => {
            res.writeHead(r.status, Object.fromEntries(r.headers));
            if (r.body) Readable.fromWeb(r.body as import('node:stream/web').ReadableStream).pipe(res);
            else res.end();
          }, (e: unknown) => {
            res.writeHead(500);
            res.end(String(e));
          });
      });
    }
  };
}

async function startVite(api: () => CoreApi<InvokeEventLike>): Promise<{ server: ViteDevServer; url: string }> {
  const config = electronViteConfig as { renderer?: InlineConfig };
  const renderer = config.renderer;
  if (!renderer) throw new Error('electron.vite.config.ts has no renderer section');
  const server = await createServer({
    ...renderer,
    configFile: false,
    logLevel: 'warn',
    plugins: [...(renderer.plugins ?? []), mediaPlugin(api)],
    server: { host: '127.0.0.1', port: 0, strictPort: false, watch: null, hmr: false }
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('Vite did not report the URL it serves on');
  return { server, url };
}

export interface StudioOptions {
  modelsDir: string;
  viewport?: { width: number; height: number };
}

export async function startStudio({ modelsDir, viewport = { width: 1440, height: 900 } }: StudioOptions): Promise<Studio> {
  let api!: CoreApi<InvokeEventLike>;
  const { server, url } = await startVite(() => api);
  const host = new ScriptedHost(modelsDir, `${url.replace(/\/$/, '')}${MEDIA_ROUTE}`);
  api = createCoreApi<InvokeEventLike>(host);
  // Exactly main's path: sender check, payload validation, handler, result validation.
  const ipc = new FakeIpcMain(url);
  const isAppPage = appUrlMatcher(url);
  registerHandlers(ipc, api.handlers, { isTrustedSender: isAppPage });

  const profile = mkdtempSync(join(tmpdir(), 'stylecast-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport, colorScheme: 'dark' });
  } catch (e) {
    await server.close();
    throw new Error(`Chromium could not start from ${CHROMIUM} (install Debian's chromium package): ${(e as Error).message}`);
  }
  const calls: Studio['calls'] = [];
  await context.exposeBinding('__stylecastInvoke', async (source, name: unknown, args: unknown) => {
    const list = Array.isArray(args) ? args : [];
    const call = { name: String(name), payload: list[0], error: null as string | null };
    calls.push(call);
    const listener = ipc.listeners.get(call.name);
    try {
      if (!listener) throw new Error(`"${call.name}" is not a Stylecast API method`);
      return await listener({ senderFrame: { url: source.frame.url() } }, ...list);
    } catch (e) {
      call.error = (e as Error).message;
      throw e;
    }
  });
  await context.addInitScript(preloadShim);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console error: ${m.text()}`);
  });

  // Events in order, each delivered before the next.
  let delivery: Promise<unknown> = Promise.resolve();
  host.onEvent(({ name, payload }) => {
    delivery = delivery.then(() => page.evaluate(([n, p]) => (globalThis as unknown as { __stylecastDispatch(n: string, p: unknown): void }).__stylecastDispatch(n, p), [name, payload] as const)).catch(() => undefined);
  });

  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.goto(url);
  return {
    page,
    host,
    api,
    url,
    pageErrors,
    calls,
    invoke: <T>(name: string, payload?: unknown) => (payload === undefined ? ipc.invoke(name) : ipc.invoke(name, payload)) as Promise<T>,
    async screenshot(name) {
      const path = resolve(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      await context.close().catch(() => undefined);
      await api.dispose();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  };
}

/** The studio over a calibrated seeded model made in `dir`/models. */
export async function startSeededStudio(dir: string): Promise<Studio> {
  const rt = await Runtime.create({ device: 'cpu' });
  await calibratedSeededModel(join(dir, 'models', 'seeded-64'), rt);
  await rt.release();
  return startStudio({ modelsDir: join(dir, 'models') });
}
