// The per-frame parameter layout of an encoding (METHOD.md, "Terms"):
// p_t = [yaw, pitch, roll, a_1 .. a_32]. Shared by the model's edit basis and the project format.
export const POSE_NAMES = ['yaw', 'pitch', 'roll'] as const;
export const ATTRIBUTE_COUNT = 32;
export const PARAM_COUNT = POSE_NAMES.length + ATTRIBUTE_COUNT;

/**
 * Track names in the vocabulary users know from other face tools (USERS.md), by
 * calibration region, in the order calibration fills each region's quota.
 * Landmark calibration (models with faces) matches measured landmark motion to
 * these names; fixed-region calibration (models without faces, such as the
 * seeded test model) gives them to the region's channels in rank order, so
 * there the name says where a channel acts, not what it looks like.
 */
export const ATTRIBUTE_VOCABULARY = {
  mouth: ['lip open', 'smile', 'jaw open', 'pout', 'purse', 'grin', 'lip corner left', 'lip corner right', 'lip press', 'lip stretch', 'upper lip raise', 'lower lip drop'],
  eyes: ['wink left', 'wink right', 'eyes wide', 'squint', 'gaze left-right', 'gaze up-down', 'blink', 'lower lid raise'],
  brows: ['brow raise', 'brow furrow', 'brow raise left', 'brow raise right', 'inner brow raise', 'brow lower'],
  'nose-forehead-cheeks': ['nose wrinkle', 'cheek raise', 'cheek puff', 'forehead wrinkle', 'nostril flare', 'cheek suck']
} as const satisfies Record<string, readonly string[]>;
