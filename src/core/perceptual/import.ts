// Import of LPIPS-VGG from the files users have: a torchvision VGG16 state dict (.pth)
// and the LPIPS linear heads (.pth). The .pth files are read by the checkpoint reader
// (a parser: nothing in the file is executed).
import { basename, resolve } from 'node:path';
import { readStateDict } from '../model/import';
import { sha256OfFileUnlessKnown } from '../util/hash';
import { PerceptualManifest, writePerceptualBundle } from './bundle';
import { lpipsFromStateDicts } from './statedict';
import { TAP_CONVS } from './vgg';

export interface PerceptualImportReport {
  out: string;
  id: string;
  name: string;
  /** Output channels of the 13 convs and of the five tapped layers. */
  convChannels: number[];
  tapChannels: number[];
  parameters: number;
  vgg: { file: string; sha256: string };
  lpips: { file: string; sha256: string };
}

export interface PerceptualImportOptions {
  vgg: string;
  lpips: string;
  out: string;
  name?: string;
  /**
   * The SHA-256 of one file, only where the caller computed it from that file's bytes just
   * before (a download that hashed what it wrote). It is used for the file at that path
   * alone; the other file of the pair is hashed as always.
   */
  known?: { file: string; sha256: string };
}

/** Reads both .pth files, checks them and writes the perceptual bundle to `out` (atomically). */
export async function importPerceptual(o: PerceptualImportOptions): Promise<PerceptualImportReport> {
  const [vsd, hsd] = [await readStateDict(o.vgg), await readStateDict(o.lpips)];
  const w = lpipsFromStateDicts(vsd, hsd, { vgg: o.vgg, lpips: o.lpips });
  const knownFor = (file: string) => (o.known && resolve(o.known.file) === resolve(file) ? o.known.sha256 : undefined);
  const vgg = { file: basename(o.vgg), sha256: await sha256OfFileUnlessKnown(o.vgg, knownFor(o.vgg)) };
  const lpips = { file: basename(o.lpips), sha256: await sha256OfFileUnlessKnown(o.lpips, knownFor(o.lpips)) };
  const m: PerceptualManifest = writePerceptualBundle(o.out, w, o.name ?? 'lpips-vgg', { vgg, lpips, lpipsVersion: '0.1' });
  return { out: o.out, id: m.id, name: m.name, convChannels: m.convChannels, tapChannels: TAP_CONVS.map((i) => m.convChannels[i]!), parameters: m.weights.floats, vgg, lpips };
}
