// The timeline model: keyframed offset layers, range edits, smoothing, region
// locks and group strengths over the encoded parameter sequence, one
// evaluation for preview and export, strict parsing, and undo history.
// Pure TypeScript: compiled for the engine and for the renderer alike.
export * from './types';
export { effectiveHandles, freezeHandles, layerValue, segmentControls, segmentValue } from './curve';
export { ease, evaluateAll, evaluateFrame, evaluateTrack, isIdentity, rangeOffset, rangeWeight } from './evaluate';
export * from './edits';
export { PRESETS, VOCABULARY_NAMES, findPreset, presetAvailability, presetOffsets, type Preset, type PresetAvailability } from './presets';
export { parseTimeline, serializeTimeline } from './parse';
export * from './history';
