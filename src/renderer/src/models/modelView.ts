// How the model manager groups and scales a bundle's calibrated channels.
import { PARAM_GROUPS, fileName, type CatalogEntryInfo, type ModelCatalog, type ModelInfo, type ParamGroup, type StylecastApi } from '../../../shared/contract';
import type { Loadable } from '../start/loadable';
import { formatBytes } from '../ui/format';

export const GROUP_LABELS: Record<ParamGroup, string> = {
  pose: 'Head pose',
  mouth: 'Mouth and lips',
  eyes: 'Eyes',
  brows: 'Brows',
  'nose-forehead-cheeks': 'Nose, forehead and cheeks'
};

export type Attribute = ModelInfo['attributes'][number];

export interface AttributeGroup {
  group: ParamGroup;
  label: string;
  attributes: (Attribute & { index: number; sigmaShare: number })[];
}

/**
 * The attributes in display order (PARAM_GROUPS), each with its parameter index and its
 * sigma as a share of the largest sigma in the bundle (for the bar). Empty groups are left out.
 */
export function groupAttributes(attributes: readonly Attribute[]): AttributeGroup[] {
  const maxSigma = Math.max(0, ...attributes.map((a) => (Number.isFinite(a.sigma) ? Math.abs(a.sigma) : 0)));
  return PARAM_GROUPS.map((group) => ({
    group,
    label: GROUP_LABELS[group],
    attributes: attributes
      .map((a, index) => ({ ...a, index, sigmaShare: maxSigma > 0 && Number.isFinite(a.sigma) ? Math.abs(a.sigma) / maxSigma : 0 }))
      .filter((a) => a.group === group)
  })).filter((g) => g.attributes.length > 0);
}

/** Localisation as the words shown beside the bar. */
export function localisationLabel(l: number): string {
  if (l >= 0.75) return 'local';
  if (l >= 0.5) return 'mostly local';
  return 'spread';
}

export const POSE_UNIT_TEXT: Record<NonNullable<ModelInfo['poseUnit']>, string> = {
  degree: 'degrees (calibrated against landmark head pose)',
  'pseudo-degree': 'pseudo-degrees (directions found in the model, scaled to look like degrees)'
};

export const POSE_METHOD_TEXT: Record<NonNullable<ModelInfo['poseMethod']>, string> = {
  'landmark-pnp': 'landmark PnP on rendered faces',
  'principal-directions': 'principal directions of the style space'
};

export const REGION_METHOD_TEXT: Record<NonNullable<ModelInfo['regionMethod']>, string> = {
  landmarks: 'face landmarks on rendered faces',
  'fixed-regions': 'fixed regions of the aligned crop'
};

/** The CLI commands the manager points to for getting real checkpoints (see `stylecast models --help`). */
export const IMPORT_COMMAND = 'npx stylecast models import <checkpoint.pkl | checkpoint.pt>';
export const DOWNLOAD_COMMAND = 'npx stylecast models download';
export const CREATE_COMMAND = 'npx stylecast model create';

/** What the catalogue says beside an entry's size: nothing, or how far a cut download got. */
export function catalogStatus(e: Pick<CatalogEntryInfo, 'installed' | 'partial'>): string | null {
  if (e.installed || !e.partial) return null;
  const of = e.partial.bytes ? ` of ${formatBytes(e.partial.bytes)}` : '';
  return `${formatBytes(e.partial.received)}${of} downloaded: Resume continues from there`;
}

export function jobTitle(label: { kind: 'import'; file: string } | { kind: 'download'; name: string }): string {
  return label.kind === 'import' ? `Importing ${fileName(label.file)}` : `Downloading ${label.name}`;
}

/**
 * A failed download's message names the file to fetch by other means and the CLI import;
 * the studio adds how to do that here.
 */
export function offlineHint(message: string): string | null {
  return /stylecast models import FILE/.test(message) ? 'In the studio: fetch the file by other means, then use Import checkpoint… and choose it.' : null;
}

/** The bundle folder name of a bundle path (what models:remove takes). */
export const bundleFolder = (path: string): string => fileName(path);

/**
 * Reads the catalogue with one models:catalog call and hands the result to `set`: the
 * catalogue panel's entries and the bundles Remove is hidden for both come from it.
 * `describe` words a failure (the view passes errorMessage; this module stays free of the
 * window API so that tests type-check it). Returns the effect cleanup, after which a late
 * answer is dropped.
 */
export function loadCatalog(api: Pick<StylecastApi, 'invoke'>, set: (catalog: Loadable<ModelCatalog>) => void, describe: (error: unknown) => string): () => void {
  let live = true;
  api.invoke('models:catalog').then(
    (value) => live && set({ state: 'ready', value }),
    (e: unknown) => live && set({ state: 'error', message: describe(e) })
  );
  return () => {
    live = false;
  };
}
