// Project folders (NAME.stylecast): the encoding E on disk, its schema, migrations and atomic saves.
export { ProjectError, isProjectError, type ProjectErrorCode } from './errors';
export {
  FLOAT32_LE,
  PARAM_COUNT,
  POSE_PARAM_NAMES,
  PROJECT_EXTENSION,
  PROJECT_FILE,
  PROJECT_FORMAT,
  SCHEMA_VERSION,
  MAX_START_SEC,
  TRANSFORM_SIZE,
  DEFAULT_FILE_NAMES,
  expectedShape,
  numWsForResolution,
  unsafeFileName,
  validateDoc,
  type ArrayFile,
  type ArrayRole,
  type BasisRef,
  type CheckContext,
  type EncodingInfo,
  type ModelRef,
  type ProjectDoc,
  type ProjectFiles,
  type SourceRef,
  type TuneRecord,
  FLOAT16_LE,
} from './schema';
export { MIGRATIONS, OLDEST_SCHEMA_VERSION, addTuneRecord, PROJECT_MIGRATIONS, migrateDoc, type Migrated, type Migration, type MigrationSet, type ProjectJson } from './migrations';
export { hashFile } from './hash';
export { isProjectSource, locateModel, resolveSourcePath, verifySource } from './locate';
export {
  COMMIT_FILE,
  bytesPerFrame,
  createProject,
  frameTransform,
  openProject,
  readParams,
  recoverInterruptedSave,
  saveProject,
  sourceFrameOf,
  sourceDecoding,
  writeFrameParams,
  writeFrames,
  type BytesPerFrame,
  type OpenOptions,
  type Project,
  type ProjectInit,
  type SourceInit,
} from './project';
export { LOCK_FILE, describeWriter, isLockFileName, lockProject, projectWriter, type LockHolder, type ProjectLock } from './lock';
