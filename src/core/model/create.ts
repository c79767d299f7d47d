// A seeded model: the true StyleGAN2 architecture with random weights, initialised as
// the official code initialises them, and w_avg measured by mapping random z.
import { Architecture, tensorSpecs } from './architecture';
import { Manifest, ModelBundle, writeBundle } from './bundle';
import { Generator } from './generator';
import { Rng } from '../util/random';
import type { Runtime } from '../runtime';

export function seededTensors(arch: Architecture, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const t = new Map<string, Float32Array>();
  for (const spec of tensorSpecs(arch)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const name = spec.name;
    let v: Float32Array;
    if (name.startsWith('mapping.fc') && name.endsWith('.weight')) v = rng.normals(n, 1 / arch.mappingLrMul);
    else if (name === 'mapping.w_avg') v = new Float32Array(n);
    else if (name.endsWith('.affine.bias')) v = new Float32Array(n).fill(1);
    else if (name.endsWith('.noise_strength')) v = Float32Array.of(0.05 + 0.1 * rng.uniform());
    else if (name.endsWith('.bias')) v = rng.normals(n, 0.05);
    // Smaller ToRGB weights keep a random model's images mostly inside -1..1, like a trained one's.
    else if (name.includes('torgb') && name.endsWith('.weight')) v = rng.normals(n, 0.3);
    else v = rng.normals(n);
    t.set(name, v);
  }
  return t;
}

export async function measureWAvg(bundle: ModelBundle, runtime: Runtime, seed: number, samples = 2048): Promise<Float32Array> {
  const gen = new Generator(bundle, runtime);
  const a = bundle.manifest.architecture;
  const rng = new Rng(seed ^ 0x5bd1e995);
  const batch = 256;
  const acc = new Float64Array(a.wDim);
  for (let done = 0; done < samples; done += batch) {
    const w = await gen.mapping(rng.normals(batch * a.zDim), batch);
    for (let i = 0; i < w.length; i++) acc[i % a.wDim]! += w[i]!;
  }
  return Float32Array.from(acc, (v) => v / Math.ceil(samples / batch) / batch);
}

/** A bundle that lives only in memory (nothing written): for measuring, benchmarks and tests. */
export function inMemoryBundle(arch: Architecture, tensors: Map<string, Float32Array>, name: string, id = name, dir = ''): ModelBundle {
  return {
    dir,
    manifest: { format: 'stylecast-model', version: 1, id, name, architecture: arch, weights: { file: '', sha256: '', floats: 0 }, tensors: [] },
    tensors
  };
}

export async function createSeededModel(dir: string, arch: Architecture, seed: number, runtime: Runtime, name = `seeded-${arch.resolution}`): Promise<Manifest> {
  const tensors = seededTensors(arch, seed);
  const inMemory = inMemoryBundle(arch, tensors, name, 'unsaved', dir);
  tensors.set('mapping.w_avg', await measureWAvg(inMemory, runtime, seed));
  return writeBundle(dir, name, arch, tensors, { kind: 'seeded', seed });
}
