// The model manager's jobs for the studio. Downloads run in main's process with an
// AbortController (network and file I/O); parsing a checkpoint, which is untrusted input,
// never does: imports (a chosen file, or a finished download) run in a heap-limited job
// process through `isolate` (core-api.ts passes JobManager.run).
// Progress and the end go to the page as job:progress / job:done of kind 'model'.
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { SEEDED_DEFAULT } from '../core/model/defaults';
import { type Catalog, type DownloadProgress, checkRemovable, downloadModel, listModels, loadCatalog, needsTrustOnFirstUse, removeModel } from '../core/model/manager';
import type { JobStatus, ModelCatalog } from '../shared/contract';
import type { Emit, JobEnd, JobSummary } from './jobs/manager';
import type { ImportModelSpec } from './jobs/protocol';

interface Running {
  out: string | null;
  ac: AbortController;
  done: Promise<void>;
}

/** Progress of a download of unknown size is sent at most this often. */
const PROGRESS_EVERY_MS = 100;

export class ModelJobs {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly modelsDir: string,
    private readonly emit: Emit,
    private readonly catalog: () => Catalog = () => loadCatalog(),
    /** Runs an import in a job process; resolves with its end. */
    private readonly isolate?: (spec: ImportModelSpec, signal: AbortSignal) => Promise<JobEnd>
  ) {}

  /** The import job for a file the user chose (the caller checked the grant): run it with JobManager.start. */
  importSpec(file: string): ImportModelSpec {
    return { kind: 'import-model', file, modelsDir: this.modelsDir, catalog: this.catalog() };
  }

  /** The catalogue with what is installed and what is partly downloaded. */
  async listCatalog(): Promise<ModelCatalog> {
    const catalog = this.catalog();
    const l = await listModels(this.modelsDir, catalog);
    const available = new Map(l.available.map((a) => [a.name, a]));
    return {
      entries: catalog.entries.map((e) => {
        const a = available.get(e.name);
        return {
          name: e.name,
          kind: e.kind,
          purpose: e.purpose,
          licence: e.licence,
          url: e.url,
          bytes: e.bytes,
          installed: !a,
          partial: a?.partial ? { received: a.partial.received, bytes: a.partial.bytes } : null
        };
      }),
      protectedPaths: [join(resolve(this.modelsDir), SEEDED_DEFAULT.name)]
    };
  }

  /** Jobs still running (the close guard asks before stopping them). */
  list(): JobSummary[] {
    return [...this.running].map(([jobId, r]) => ({ jobId, kind: 'model', out: r.out }));
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  cancel(jobId: string): boolean {
    const r = this.running.get(jobId);
    if (!r) return false;
    r.ac.abort(new Error('cancelled'));
    return true;
  }

  async cancelAll(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.ac.abort(new Error('cancelled'));
    await Promise.all(all.map((r) => r.done));
  }

  /** Resolves when the job has ended (its job:done sent). */
  whenDone(jobId: string): Promise<void> | undefined {
    return this.running.get(jobId)?.done;
  }

  /** Downloads (resuming a cut download) and installs a catalogue model. */
  startDownload(name: string, trust: { acceptUnpinned?: boolean; proxyFor?: (url: string) => Promise<string | null> } = {}): string {
    const catalog = this.catalog();
    if (!catalog.entries.some((e) => e.name === name)) throw new Error(`The catalogue has no model "${name}".`);
    return this.launch('download', async (signal, progress) => {
      let last = 0;
      let lastStep = -1;
      const onProgress = (p: DownloadProgress) => {
        // Every whole percent (every PROGRESS_EVERY_MS while the size is unknown), the resume and the end.
        const now = Date.now();
        const step = p.fraction === null ? -1 : Math.floor(p.fraction * 100);
        if (p.fraction !== 1 && !p.resumedFrom && (p.fraction === null ? now - last < PROGRESS_EVERY_MS : step === lastStep)) return;
        last = now;
        lastStep = step;
        const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
        const msg = p.resumedFrom ? `Resuming from ${mb(p.resumedFrom)}` : p.total ? `${mb(p.received)} of ${mb(p.total)}` : mb(p.received);
        progress('download', p.fraction, msg);
      };
      const isolate = this.isolate;
      const importer = isolate
        ? async (file: string, _outDir: string, o: { name: string; knownSha256: string }) => {
            progress('install', null, `importing ${file} in a job process`);
            const end = await isolate({ kind: 'import-model', file, modelsDir: this.modelsDir, catalog, name: o.name, knownSha256: o.knownSha256 }, signal);
            if (end.status !== 'done') throw new Error(end.message);
            return end.message;
          }
        : undefined;
      const r = await downloadModel(name, { modelsDir: this.modelsDir, catalog, signal, onProgress, onLog: (m) => progress('install', null, m), ...(importer ? { importer } : {}), ...trust });
      const how = r.alreadyInstalled ? 'is already installed' : `installed${r.sha256Verified ? ' (SHA-256 verified)' : ' (accepted on trust: its SHA-256 is now recorded)'}`;
      return { message: `${name} ${how} at ${r.path}`, path: r.path };
    });
  }

  /** Whether `name` has no known SHA-256 yet, so downloading it needs the user's trust (main asks). */
  needsTrust(name: string): boolean {
    const catalog = this.catalog();
    // An unknown name is startDownload's to refuse, by name.
    return catalog.entries.some((e) => e.name === name) && needsTrustOnFirstUse(this.modelsDir, catalog, name);
  }

  /** The folder `remove(name)` would delete, after all its checks (main confirms it with the user first). */
  checkRemovable(name: string): string {
    return checkRemovable(name, { modelsDir: this.modelsDir, catalog: this.catalog() }).path;
  }

  /** Removes a bundle folder of the models folder; the seeded default is refused by removeModel. */
  remove(name: string): string {
    const r = removeModel(name, { modelsDir: this.modelsDir, catalog: this.catalog() });
    return r.path;
  }

  private launch(
    firstStage: string,
    work: (signal: AbortSignal, progress: (stage: string, fraction: number | null, message: string) => void) => Promise<{ message: string; path: string | null }>
  ): string {
    const jobId = randomUUID();
    const ac = new AbortController();
    let fraction = 0;
    let stage = firstStage;
    const progress = (s: string, f: number | null, message: string) => {
      if (ac.signal.aborted) return;
      if (s !== stage) fraction = 0;
      stage = s;
      if (f !== null) fraction = Math.min(1, Math.max(0, f));
      this.emit('job:progress', { jobId, kind: 'model', stage, fraction, etaSec: null, message: message.slice(0, 500), frame: null, of: null, loss: null });
    };
    const end = (status: JobStatus, message: string, path: string | null) => this.emit('job:done', { jobId, kind: 'model', status, message, path });
    const done = (async () => {
      // Let the caller return the job id before the first event.
      await Promise.resolve();
      try {
        const r = await work(ac.signal, progress);
        end('done', r.message, r.path);
      } catch (e) {
        if (ac.signal.aborted) end('cancelled', `Cancelled. ${stage === 'download' ? 'What was downloaded is kept: Download again to resume.' : 'Nothing was installed.'}`, null);
        else end('failed', (e as Error).message || String(e), null);
      } finally {
        this.running.delete(jobId);
      }
    })();
    this.running.set(jobId, { out: null, ac, done });
    return jobId;
  }
}
