// Finds the ffmpeg and ffprobe binaries and runs them. Resolution order:
// FFMPEG_PATH / FFPROBE_PATH, then ffmpeg-static (an optionalDependency whose
// install downloads the binary and so is often absent offline), then the
// @ffmpeg-installer / @ffprobe-installer packages (binaries shipped inside the
// npm tarballs), then PATH.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { VideoError, oneLine } from './errors';

export type FfTool = 'ffmpeg' | 'ffprobe';
export type BinarySource = 'env' | 'env-sibling' | 'ffmpeg-static' | 'installer' | 'PATH';

export interface ResolvedBinary {
  tool: FfTool;
  path: string;
  source: BinarySource;
}

const ENV_VAR: Record<FfTool, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const INSTALLER: Record<FfTool, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

const exeName = (tool: FfTool): string => (process.platform === 'win32' ? `${tool}.exe` : tool);

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (process.platform !== 'win32') accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Loads a CommonJS package lazily; undefined when it is not installed or throws while loading. */
function tryRequire(id: string): unknown {
  try {
    return createRequire(import.meta.url)(id);
  } catch {
    return undefined;
  }
}

/** A packaged app cannot execute files inside app.asar: electron-builder unpacks them beside it. */
function executableFromPackage(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined;
  const unpacked = path.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
  return [unpacked, path].find(isExecutableFile);
}

function fromPackage(tool: FfTool): ResolvedBinary | undefined {
  if (tool === 'ffmpeg') {
    // ffmpeg-static exports the binary path as a string (null on unsupported platforms)
    // even when its install-time download failed, so check the file itself.
    const staticPath = executableFromPackage(tryRequire('ffmpeg-static'));
    if (staticPath) return { tool, path: staticPath, source: 'ffmpeg-static' };
  }
  const installer = tryRequire(INSTALLER[tool]) as { path?: unknown } | undefined;
  const installerPath = executableFromPackage(installer?.path);
  if (installerPath) return { tool, path: installerPath, source: 'installer' };
  return undefined;
}

function fromPath(tool: FfTool): ResolvedBinary | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, exeName(tool));
    if (isExecutableFile(candidate)) return { tool, path: candidate, source: 'PATH' };
  }
  return undefined;
}

function resolveUncached(tool: FfTool): ResolvedBinary {
  const fromEnv = process.env[ENV_VAR[tool]];
  if (fromEnv) {
    // An explicit setting that is wrong is an error, not a reason to quietly use another binary.
    if (!isExecutableFile(fromEnv)) {
      throw new VideoError(
        'FFMPEG_MISSING',
        `${ENV_VAR[tool]} is set to "${fromEnv}", which is not an executable file. Fix or unset ${ENV_VAR[tool]}.`,
        fromEnv,
      );
    }
    return { tool, path: fromEnv, source: 'env' };
  }
  // ffprobe usually ships beside ffmpeg: honour a custom FFMPEG_PATH for it too.
  if (tool === 'ffprobe' && process.env.FFMPEG_PATH) {
    const sibling = join(dirname(process.env.FFMPEG_PATH), exeName('ffprobe'));
    if (isExecutableFile(sibling)) return { tool, path: sibling, source: 'env-sibling' };
  }
  const found = fromPackage(tool) ?? fromPath(tool);
  if (found) return found;
  throw new VideoError(
    'FFMPEG_MISSING',
    `Could not find ${tool}: set ${ENV_VAR[tool]} to its full path, reinstall the app's dependencies (${INSTALLER[tool]}), or put ${tool} on the PATH.`,
  );
}

const cache = new Map<string, ResolvedBinary>();

/** Resolves a tool once per distinct FFMPEG_PATH/FFPROBE_PATH setting. */
export function resolveBinary(tool: FfTool): ResolvedBinary {
  const key = `${tool}\0${process.env.FFMPEG_PATH ?? ''}\0${process.env.FFPROBE_PATH ?? ''}\0${process.env.PATH ?? ''}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = resolveUncached(tool);
    cache.set(key, hit);
  }
  return hit;
}

/**
 * Options placed before every `-i` of a file we did not make (sources, audio, portraits):
 * media files are untrusted, so ffmpeg may read only local files, through only the demuxers
 * of the containers and images Stylecast supports. Without this a file named talk.mp4 that
 * holds an ffconcat list or a playlist makes ffmpeg read other files or the network.
 */
export const SAFE_INPUT_OPTIONS: readonly string[] = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  // mp4/mov/m4v, mkv/webm, AVI, and the still images a portrait may be: containers that hold
  // their media, none that names other files or URLs. (Not MPEG-TS: the bundled ffprobe, a 2023
  // static build, crashes on every .ts/.mts file we made, whitelist or not.)
  ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm', 'avi', 'image2', 'png_pipe', 'jpeg_pipe', 'bmp_pipe', 'webp_pipe'].join(',')
];

export const resolveFfmpeg = (): ResolvedBinary => resolveBinary('ffmpeg');
export const resolveFfprobe = (): ResolvedBinary => resolveBinary('ffprobe');

// ---- running the tools -----------------------------------------------------

/** Keeps the last bytes of a child's stderr, enough for a diagnostic without unbounded growth. */
export class StderrTail {
  private text = '';
  constructor(private readonly limit = 16_384) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit) this.text = this.text.slice(-this.limit);
  }
  get all(): string {
    return this.text;
  }
  /** The last non-empty line, the one ffmpeg uses for its actual error. */
  lastLine(): string {
    const lines = this.text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    return oneLine(lines[lines.length - 1] ?? '');
  }
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: Error;
}

export interface RunningTool {
  child: ChildProcess;
  stderr: StderrTail;
  /** Settles once, when the process has exited and its pipes are closed (or it failed to start). */
  exited: Promise<ExitStatus>;
}

export function startTool(bin: ResolvedBinary, args: string[], stdio: StdioOptions): RunningTool {
  const child = spawn(bin.path, args, { stdio, windowsHide: true });
  const stderr = new StderrTail();
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('error', (spawnError) => {
      // 'error' also fires for failed kills; only a process that never started has no pid.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stderr, exited };
}

/** The error for a binary that was resolved but could not be started. */
export function spawnFailure(bin: ResolvedBinary, err: Error): VideoError {
  return new VideoError(
    'FFMPEG_MISSING',
    `Could not start ${bin.tool} at "${bin.path}" (${err.message}). Set ${ENV_VAR[bin.tool]} to a working ${bin.tool}.`,
    bin.path,
  );
}

/** Kills a child if it is still running and waits until it is gone, so no process outlives its caller. */
export async function stopTool(tool: RunningTool): Promise<ExitStatus> {
  const { child } = tool;
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGKILL');
  }
  return tool.exited;
}

/** Runs a tool to completion and collects stdout. */
export async function runTool(
  bin: ResolvedBinary,
  args: string[],
): Promise<{ status: ExitStatus; stdout: string; stderr: StderrTail }> {
  const tool = startTool(bin, args, ['ignore', 'pipe', 'pipe']);
  const chunks: Buffer[] = [];
  tool.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const status = await tool.exited;
  if (status.spawnError) throw spawnFailure(bin, status.spawnError);
  return { status, stdout: Buffer.concat(chunks).toString('utf8'), stderr: tool.stderr };
}
