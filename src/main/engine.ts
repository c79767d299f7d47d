// The engine as main uses it for interactive work (previews): one Runtime,
// and per model bundle its weights, edit basis and a FrameRenderer whose
// compiled graphs stay warm between calls. onnxruntime-node is loaded on first
// use, not at startup, so the window appears without waiting for it.
import { resolve } from 'node:path';
import { hasBasis, loadBasis, type EditBasis } from '../core/model/basis';
import { loadBundle, type ModelBundle } from '../core/model/bundle';
import { FrameRenderer, renderSizes } from '../core/render/render';
import type { Device, Runtime } from '../core/runtime';

export interface LoadedModel {
  bundle: ModelBundle;
  /** Null when the bundle is not calibrated yet (the first encode calibrates it). */
  basis: EditBasis | null;
  renderer: FrameRenderer | null;
}

export class Engine {
  private runtime?: Promise<Runtime>;
  private device?: Promise<Device>;
  private readonly models = new Map<string, Promise<LoadedModel>>();

  rt(): Promise<Runtime> {
    this.runtime ??= import('../core/runtime').then((m) => m.Runtime.create());
    return this.runtime;
  }

  /** The device core runs on; CPU when detection fails (the app still works). */
  detectDevice(): Promise<Device> {
    this.device ??= import('../core/runtime')
      .then((m) => m.resolveDevice())
      .catch((e: unknown) => {
        console.warn(`Stylecast: device detection failed, using CPU: ${(e as Error).message}`);
        return 'cpu' as const;
      });
    return this.device;
  }

  /** A bundle with its basis and renderer, loaded once (reload after a calibration with forget()). */
  model(dir: string): Promise<LoadedModel> {
    const key = resolve(dir);
    let m = this.models.get(key);
    if (!m) {
      m = (async () => {
        const bundle = loadBundle(key);
        const basis = hasBasis(bundle) ? loadBasis(bundle) : null;
        return { bundle, basis, renderer: basis ? new FrameRenderer(bundle, basis, await this.rt()) : null };
      })();
      m.catch(() => this.models.delete(key));
      this.models.set(key, m);
    }
    return m;
  }

  /** A calibrated model: its renderer and basis, or a clear error. */
  async renderer(dir: string): Promise<{ bundle: ModelBundle; basis: EditBasis; renderer: FrameRenderer }> {
    let m = await this.model(dir);
    if (!m.basis) {
      // Calibrated since it was loaded (by an encode job)?
      this.forget(dir);
      m = await this.model(dir);
    }
    if (!m.basis || !m.renderer) throw new Error(`The model ${m.bundle.manifest.name} is not calibrated yet: encode a video with it first (the first encode calibrates it).`);
    return { bundle: m.bundle, basis: m.basis, renderer: m.renderer };
  }

  forget(dir: string): void {
    this.models.delete(resolve(dir));
  }

  async dispose(): Promise<void> {
    this.models.clear();
    const rt = this.runtime;
    this.runtime = undefined;
    if (rt) await (await rt).release();
  }
}

/** The render size for a request: the model's own for null, else the largest it renders at or below the request. */
export function pickRenderSize(resolution: number, requested: number | null): number {
  const sizes = renderSizes(resolution);
  if (requested === null) return resolution;
  return sizes.filter((s) => s <= requested).pop() ?? sizes[0]!;
}
