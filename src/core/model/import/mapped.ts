import type { Architecture } from '../architecture';
import type { TorchTensor } from './torch';

/** What a format reader found: the architecture and the file's tensors under our names. */
export interface MappedModel {
  format: 'stylegan2-ada-pickle' | 'rosinality' | 'stylegan2-state-dict';
  arch: Architecture;
  /** Our tensor names -> file tensors, or file tensors times a constant (rescaled weights). */
  tensors: Map<string, TorchTensor | ScaledTensor>;
  /** Checks on tensor values, run once the storages are loaded. */
  valueChecks: (() => void)[];
  /** Conv layers without noise inputs (use_noise=False): written with zero noise. */
  noiseless: Set<string>;
  fp16Resolutions: number[];
  wAvgPresent: boolean;
  notes: string[];
  initKwargs?: unknown;
}

export interface ScaledTensor {
  source: TorchTensor;
  scale: number;
}
