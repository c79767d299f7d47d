// Expression presets for range edits, by track name in the calibration
// vocabulary (src/core/params.ts). Values are in track units (one unit = one
// StyleSpace sigma of the channel, positive = more of what the name says); the
// first entry of each preset is its main track: a model without it cannot
// apply the preset, while missing secondary tracks are only left out.
import { ATTRIBUTE_VOCABULARY, PARAM_COUNT } from '../params';

export interface Preset {
  readonly id: string;
  readonly label: string;
  readonly offsets: Readonly<Record<string, number>>;
}

export const PRESETS: readonly Preset[] = [
  { id: 'smile', label: 'Smile', offsets: { smile: 2, 'lip corner left': 1, 'lip corner right': 1, 'cheek raise': 1 } },
  { id: 'grin', label: 'Grin', offsets: { grin: 2, smile: 1, 'lip stretch': 1, 'cheek raise': 0.5 } },
  { id: 'wink-left', label: 'Wink left', offsets: { 'wink left': 2.5, 'cheek raise': 0.5 } },
  { id: 'wink-right', label: 'Wink right', offsets: { 'wink right': 2.5, 'cheek raise': 0.5 } },
  { id: 'blink', label: 'Blink', offsets: { blink: 2.5 } },
  { id: 'jaw-open', label: 'Jaw open', offsets: { 'jaw open': 2.5, 'lip open': 1.5, 'lower lip drop': 0.5 } },
  { id: 'lip-open', label: 'Lip open', offsets: { 'lip open': 2, 'upper lip raise': 0.5, 'lower lip drop': 0.5 } },
  { id: 'pout', label: 'Pout', offsets: { pout: 2, purse: 0.5 } },
  { id: 'purse', label: 'Purse (pucker)', offsets: { purse: 2, pout: 1, 'lip press': 0.5 } },
  { id: 'brow-raise', label: 'Brow raise', offsets: { 'brow raise': 2, 'inner brow raise': 1, 'forehead wrinkle': 1 } },
  { id: 'frown', label: 'Frown', offsets: { 'brow furrow': 2, 'brow lower': 1, smile: -1, 'lip press': 0.5 } },
  { id: 'surprise', label: 'Surprise', offsets: { 'eyes wide': 2, 'brow raise': 2, 'jaw open': 1.5, 'lip open': 1 } },
  { id: 'squint', label: 'Squint', offsets: { squint: 2, 'lower lid raise': 1, 'cheek raise': 0.5 } },
  { id: 'sneer', label: 'Sneer', offsets: { 'nose wrinkle': 2, 'upper lip raise': 1.5, 'nostril flare': 0.5 } },
  { id: 'scream', label: 'Scream', offsets: { 'jaw open': 3, 'lip open': 2, 'lip stretch': 1.5, 'eyes wide': 1.5, 'brow raise': 1.5 } },
  { id: 'cheek-puff', label: 'Cheek puff', offsets: { 'cheek puff': 2, 'lip press': 1 } }
];

/** Every name a preset may use (for the tests: all are calibration vocabulary). */
export const VOCABULARY_NAMES: readonly string[] = Object.values(ATTRIBUTE_VOCABULARY).flat();

export function findPreset(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

export interface PresetAvailability {
  available: boolean;
  /** Why it cannot be applied, for the disabled control's tooltip. */
  reason: string | null;
  /** Secondary tracks the model lacks (left out when applying). */
  missing: string[];
}

export function presetAvailability(preset: Preset, paramNames: readonly string[]): PresetAvailability {
  const names = Object.keys(preset.offsets);
  const missing = names.filter((n) => !paramNames.includes(n));
  const main = names[0]!;
  if (missing.includes(main)) return { available: false, reason: `This model has no “${main}” track (its calibration did not find one).`, missing };
  return { available: true, reason: null, missing };
}

/** The preset's offsets by track index, times `amount`; tracks the model lacks get 0. */
export function presetOffsets(preset: Preset, paramNames: readonly string[], amount: number): number[] {
  const offsets = new Array<number>(PARAM_COUNT).fill(0);
  for (const [name, value] of Object.entries(preset.offsets)) {
    const i = paramNames.indexOf(name);
    if (i >= 0 && i < PARAM_COUNT) offsets[i] = value * amount;
  }
  return offsets;
}
