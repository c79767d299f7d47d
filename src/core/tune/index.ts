// Generator fine-tuning stored as a low-rank float16 delta per project (METHOD.md step 4).
export * from './delta';
export { loadDelta, storeDelta, copyDelta, projectRenderer, widSha256, type ProjectRendering } from './store';
export { DEFAULT_TUNE, HELD_OUT_EVERY, checkTuneInput, measureLocality, runTune, splitFrames, type TuneOptions, type TuneProgress, type TuneReport, type TuneResult, type TuneSettings } from './tune';
export { estimateTune, type TuneEstimate } from './estimate';
export { DEFAULT_PORTRAIT_STEPS, portraitTuneSettings, tunePortrait, type PortraitTune, type PortraitTuneOptions, type PortraitTuneReport } from './portrait';
