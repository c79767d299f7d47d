// The packaged app (electron-builder, `npm run dist`): every native or binary file the app
// resolves at run time lies under an asarUnpack rule (code inside app.asar cannot be
// executed or dlopen'ed), comes from a production dependency, and is kept out of the bundle;
// install scripts are allowed exactly where needed; the CLI runs compiled JS when installed.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_PACKAGES } from '../../electron.vite.config';
import { faceApiModelDir } from '../../src/core/face/nets/weights';
import { resolveBinary } from '../../src/core/video/ffmpeg';
import { repoRoot, tempDir } from '../helpers';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
const tmp = tempDir('packaging');

/** electron-builder's glob subset: `**` any path, `*` within one segment, `?` one character. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
const unpackRules: RegExp[] = pkg.build.asarUnpack.map(globToRegExp);
const unpacked = (rel: string): boolean => unpackRules.some((r) => r.test(rel));

const nodeModules = realpathSync(join(repoRoot, 'node_modules'));
/** A path inside the installed packages as the app's asar would hold it: node_modules/... */
const inApp = (p: string): string => `node_modules/${relative(nodeModules, realpathSync(p)).split(sep).join('/')}`;
/** The package a node_modules path belongs to. */
const packageOf = (rel: string): string => {
  const parts = rel.split('/').slice(1);
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
};

/** Lock entries reachable from the app's own (non-dev) dependencies are not marked dev. */
const isProductionPackage = (name: string): boolean => {
  const entry = lock.packages[`node_modules/${name}`];
  return Boolean(entry) && !entry.dev;
};

const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

describe('asarUnpack covers what the app resolves at run time', () => {
  it.skipIf(process.platform !== 'linux')('native libraries loaded by ONNX Runtime and resvg, read from the process memory map', async () => {
    // What the test runner itself loaded (rollup's addon, for one) is not the app's.
    const before = new Set(nativeMapped());
    const { Runtime } = await import('../../src/core/runtime');
    const { svgToPng } = await import('../../src/core/metrics/svg-png');
    const rt = await Runtime.create({ device: 'cpu' });
    svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
    const loaded = nativeMapped().filter((p) => !before.has(p));
    const rel = loaded.map(inApp).sort();
    // Both addons (and ONNX Runtime's shared library) are really loaded from node_modules.
    expect(rel.some((p) => p.startsWith('node_modules/onnxruntime-node/') && p.endsWith('onnxruntime_binding.node'))).toBe(true);
    expect(rel.some((p) => p.startsWith('node_modules/@resvg/') && p.endsWith('.node'))).toBe(true);
    for (const p of rel) {
      expect(unpacked(p), `${p} is loaded at run time but not unpacked`).toBe(true);
      expect(isProductionPackage(packageOf(p)), `${p} is not from a production dependency`).toBe(true);
    }
    expect(rt).toBeDefined();
  });

  it('ffmpeg and ffprobe as the video module resolves them from the packages', () => {
    const saved = { FFMPEG_PATH: process.env.FFMPEG_PATH, FFPROBE_PATH: process.env.FFPROBE_PATH, PATH: process.env.PATH };
    delete process.env.FFMPEG_PATH;
    delete process.env.FFPROBE_PATH;
    process.env.PATH = ''; // only the packaged binaries count here
    try {
      for (const tool of ['ffmpeg', 'ffprobe'] as const) {
        const bin = resolveBinary(tool);
        expect(['ffmpeg-static', 'installer']).toContain(bin.source);
        const rel = inApp(bin.path);
        expect(unpacked(rel), `${rel} is executed but not unpacked`).toBe(true);
        expect(isProductionPackage(packageOf(rel)), rel).toBe(true);
      }
    } finally {
      Object.assign(process.env, saved);
    }
  });

  it('the face networks read every weight file from the unpacked face-api model folder', () => {
    const files = walk(faceApiModelDir()).map(inApp);
    expect(files.filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(unpacked(f), f).toBe(true);
    expect(isProductionPackage('@vladmandic/face-api')).toBe(true);
  });

  it('packages located by their own folder stay external to the bundle and ship as dependencies', () => {
    for (const name of ['onnxruntime-node', '@ffmpeg-installer/ffmpeg', '@ffprobe-installer/ffprobe', '@resvg/resvg-js', '@vladmandic/face-api']) {
      expect(RUNTIME_PACKAGES).toContain(name);
      expect(pkg.dependencies[name], name).toBeDefined();
    }
    expect(pkg.optionalDependencies['ffmpeg-static']).toBeDefined();
  });
});

/** Native libraries under node_modules mapped into this process (Linux: /proc/self/maps). */
function nativeMapped(): string[] {
  const paths = readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => (l.includes('/') ? l.slice(l.indexOf('/')) : ''));
  return [...new Set(paths.filter((p) => /\.node$|\.so(\.\d+)*$/.test(p) && p.startsWith(nodeModules)))];
}

/** Bare package names imported by the .ts/.tsx files under `dir`. */
function importsUnder(dir: string): Set<string> {
  const names = new Set<string>();
  for (const f of walk(join(repoRoot, dir)).filter((p) => /\.(ts|tsx)$/.test(p))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)'([^'.][^']*)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return names;
}

describe('dependencies', () => {
  it('everything main, core and the CLI import ships as a dependency; renderer-only packages are dev (bundled by Vite)', () => {
    const runtime = new Set([...importsUnder('src/main'), ...importsUnder('src/core'), ...importsUnder('src/cli'), ...importsUnder('src/shared')]);
    runtime.delete('electron'); // provided by the Electron binary itself
    for (const name of runtime) expect(pkg.dependencies[name] ?? pkg.optionalDependencies?.[name], `${name} is imported at run time`).toBeDefined();
    const rendererOnly = [...importsUnder('src/renderer')].filter((n) => !runtime.has(n));
    expect(rendererOnly.sort()).toEqual(expect.arrayContaining(['react', 'react-dom', 'three']));
    for (const name of rendererOnly) {
      expect(pkg.dependencies[name], `${name} is renderer-only`).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBeDefined();
    }
    // tsx runs the sources in a checkout only; protobufjs comes with onnx-proto, unimported by us.
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.dependencies.protobufjs).toBeUndefined();
    expect(runtime.has('protobufjs')).toBe(false);
  });
});

/** Install scripts the app needs: Electron's binary, ONNX Runtime's CUDA step, esbuild's binary check, the ffmpeg binaries. */
const NEEDED = (name: string): boolean =>
  ['electron', 'onnxruntime-node', 'esbuild', 'ffmpeg-static'].includes(name) || /^@ff(mpeg|probe)-installer\/(darwin|linux|win32)-/.test(name);

describe('allowScripts', () => {
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean; version: string }>).filter(([, v]) => v.hasInstallScript);
  const nameOf = (k: string) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const lockScripts = withScripts.map(([k]) => nameOf(k));
  const lockVersions = withScripts.map(([k, v]) => `${nameOf(k)}@${v.version}`);

  it('decides every package in the lockfile that has an install script: allows exactly the needed ones, denies the rest', () => {
    expect(lockScripts.length).toBeGreaterThan(5);
    for (const name of lockScripts) {
      expect(pkg.allowScripts[name], `${name} has an install script and no allowScripts entry`).toBe(NEEDED(name));
    }
    // No entry for something the lockfile no longer has, and every needed kind is present.
    for (const key of Object.keys(pkg.allowScripts)) expect(lockScripts, key).toContain(key);
    for (const name of ['electron', 'onnxruntime-node', 'esbuild', '@ffmpeg-installer/linux-x64', '@ffprobe-installer/linux-x64']) expect(pkg.allowScripts[name], name).toBe(true);
  });

  it('leaves nothing of ours pending in npm install-scripts ls', () => {
    // npm lists from the installed tree; a node_modules linked from elsewhere is copied as hard links so npm sees a plain tree.
    let dir = repoRoot;
    if (lstatSync(join(repoRoot, 'node_modules')).isSymbolicLink()) {
      dir = join(tmp, 'project');
      mkdirSync(dir);
      for (const f of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, f), join(dir, f));
      const cp = spawnSync('cp', ['-al', nodeModules, join(dir, 'node_modules')]);
      expect(cp.status, String(cp.stderr)).toBe(0);
    }
    const r = spawnSync('npm', ['install-scripts', 'ls', '--json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const pending: string[] = (JSON.parse(r.stdout).allowScripts as { changes: { key: string }[] }[]).flatMap((p) => p.changes.map((c) => c.key));
    // Packages outside our lockfile (installed there by other work) are not ours to decide.
    expect(pending.filter((k) => lockVersions.includes(k))).toEqual([]);
  });
});

describe('electron-builder targets', () => {
  it('builds AppImage and deb, NSIS and dmg with `npm run dist`', () => {
    expect(pkg.scripts.dist).toBe('electron-vite build && electron-builder --publish never');
    expect(pkg.build.linux.target).toEqual(['AppImage', 'deb']);
    expect(pkg.build.win.target).toEqual(['nsis']);
    expect(pkg.build.mac.target).toEqual(['dmg']);
    // The deb pulls in the font the charts are drawn with.
    expect(pkg.build.deb.depends).toContain('fonts-dejavu-core');
    // The built app's entry and the catalogue are among the packed files.
    expect(pkg.main).toBe('out/main/index.js');
    expect(pkg.build.files).toEqual(expect.arrayContaining(['out/**', 'resources/**']));
  });
});

describe('bin/stylecast.mjs', () => {
  function run(dir: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [join(dir, 'bin', 'stylecast.mjs'), '--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => done({ status, stdout, stderr }));
    });
  }

  it('runs the compiled CLI in an installed copy (no sources, no tsx), and says to build when it is missing', async () => {
    const installed = join(tmp, 'installed');
    mkdirSync(join(installed, 'bin'), { recursive: true });
    cpSync(join(repoRoot, 'bin', 'stylecast.mjs'), join(installed, 'bin', 'stylecast.mjs'));
    const missing = await run(installed);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`stylecast: error: ${join(installed, 'out', 'main', 'cli.js')} is missing: run "npm run build" first\n`);
    mkdirSync(join(installed, 'out', 'main'), { recursive: true });
    writeFileSync(join(installed, 'out', 'main', 'cli.js'), "process.stdout.write('compiled ' + process.argv.slice(2).join(' '));\n");
    const r = await run(installed);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('compiled --version');
  });
});
