// LPIPS-VGG: the perceptual loss and metric (METHOD.md), its bundle, importer and lookup.
export { LPIPS_MAX_SIDE, LPIPS_MIN_SIDE, LpipsVgg, lpipsInput, lpipsInputSide, lpipsLoss, upsampleBilinear2 } from './lpips';
export { PERCEPTUAL_FORMAT, PERCEPTUAL_VERSION, loadPerceptualBundle, writePerceptualBundle, type PerceptualBundle, type PerceptualManifest } from './bundle';
export { DEFAULT_PERCEPTUAL_NAME, findPerceptualBundle, perceptualCandidates } from './find';
export { PerceptualError, TAP_CONVS, VGG16_CONVS, tapWidths, validateWeights, type LpipsVggWeights } from './vgg';
export { importPerceptual, type PerceptualImportOptions, type PerceptualImportReport } from './import';
export { lpipsFromStateDicts, type StateDict } from './statedict';
export { lpipsDistances } from './metric';
