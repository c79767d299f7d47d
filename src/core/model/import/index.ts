// Checkpoint import: PyTorch zip / legacy checkpoints (rosinality-style StyleGAN2, plain state
// dicts) and NVlabs StyleGAN2-ADA network pickles, read by parsers that never run code from the file.
export { CheckpointError } from './errors';
export type { TorchTensor } from './torch';
export { readTorchFile, readStateDict } from './torch';
export type { ImportReport, ImportOptions } from './checkpoint';
export { importCheckpoint } from './checkpoint';
