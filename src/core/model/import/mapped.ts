import type { Architecture } from '../architecture';
import type { TorchTensor } from './torch';

/** What a format reader found: the architecture and the file's tensors under our names. */
export interface MappedModel {
  format: 'stylegan2-ada-pickle' | 'stylegan2-tf-pickle' | 'rosinality' | 'stylegan2-state-dict';
  arch: Architecture;
  /** Our tensor names -> file tensors, or file tensors times a constant (rescaled weights). */
  tensors: Map<string, TorchTensor | ScaledTensor | ReadyTensor>;
  /** Checks on tensor values, run once the storages are loaded. */
  valueChecks: (() => void)[];
  /** Conv layers without noise inputs (use_noise=False): written with zero noise. */
  noiseless: Set<string>;
  fp16Resolutions: number[];
  wAvgPresent: boolean;
  notes: string[];
  initKwargs?: unknown;
}

/** Values already read and moved to our layout (a TensorFlow pickle's numpy arrays). */
export interface ReadyTensor {
  kind: 'ready';
  shape: number[];
  data: Float32Array;
}

export interface ScaledTensor {
  source: TorchTensor;
  scale: number;
}
