// What a checkpoint may declare, checked before its tensors are read or converted.
import { Architecture, MAX_RESOLUTION } from '../architecture';
import { CheckpointError } from './errors';

/** Limits on what a checkpoint may declare, checked before any storage is read or tensor allocated. */
export const IMPORT_LIMITS = { maxResolution: MAX_RESOLUTION, maxChannels: 1024, maxDim: 1024, maxMappingLayers: 16 } as const;

/** Refuses an architecture the generator cannot build, whatever the file says (resolutions, widths). */
export function checkArchitecture(a: Architecture, where: string): void {
  const L = IMPORT_LIMITS;
  const bad = (what: string): never => {
    throw new CheckpointError(`${where}: ${what}; Stylecast supports StyleGAN2 generators up to ${L.maxResolution}x${L.maxResolution} with at most ${L.maxChannels} channels`);
  };
  if (!Number.isInteger(a.resolution) || a.resolution < 4 || a.resolution > L.maxResolution) bad(`resolution ${a.resolution} is out of range`);
  for (const [r, c] of Object.entries(a.channels)) if (!Number.isInteger(c) || c < 1 || c > L.maxChannels) bad(`${c} channels at ${r}x${r}`);
  if (!(a.zDim >= 1 && a.zDim <= L.maxDim && a.wDim >= 1 && a.wDim <= L.maxDim)) bad(`z_dim ${a.zDim} / w_dim ${a.wDim} are out of range`);
  if (!(a.mappingLayers >= 1 && a.mappingLayers <= L.maxMappingLayers)) bad(`${a.mappingLayers} mapping layers`);
  if (!(a.imgChannels >= 1 && a.imgChannels <= 4)) bad(`${a.imgChannels} image channels`);
}

