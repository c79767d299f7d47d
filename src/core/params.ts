// The per-frame parameter layout of an encoding (METHOD.md, "Terms"):
// p_t = [yaw, pitch, roll, a_1 .. a_32]. Shared by the model's edit basis and the project format.
export const POSE_NAMES = ['yaw', 'pitch', 'roll'] as const;
export const ATTRIBUTE_COUNT = 32;
export const PARAM_COUNT = POSE_NAMES.length + ATTRIBUTE_COUNT;
