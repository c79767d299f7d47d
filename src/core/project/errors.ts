export type ProjectErrorCode =
  | 'NOT_FOUND' // the project folder, project.json, or a file to hash does not exist
  | 'NOT_A_PROJECT' // project.json exists but is not a Stylecast project file
  | 'CORRUPT' // a project file is damaged: bad JSON, wrong field, wrong size, non-finite value
  | 'NEWER_SCHEMA' // written by a newer Stylecast than this one
  | 'TOO_OLD' // older than the oldest schema this app can migrate
  | 'UNSAFE_PATH' // a file name in project.json points outside the project folder
  | 'INVALID' // the caller passed bad values (create, save, writeFrameParams)
  | 'EXISTS' // createProject into a folder that already has content
  | 'MODEL_MISSING' // the model bundle the project was encoded with cannot be found
  | 'SOURCE_MISSING' // verifySource: the source video is neither at its path nor beside the project
  | 'SOURCE_CHANGED' // verifySource: the source video no longer matches its recorded size or hash
  | 'NOT_WRITABLE' // the project folder cannot be written
  | 'NOT_READABLE' // a file exists but cannot be read
  | 'BUSY'; // another process is writing the project (lock.ts)

/** A one-line, user-facing error about a project; `code` is what callers branch on. */
export class ProjectError extends Error {
  readonly code: ProjectErrorCode;
  /** The file (or folder) concerned, when there is one. */
  readonly file?: string;
  constructor(code: ProjectErrorCode, message: string, file?: string) {
    super(message.replace(/\s+/g, ' ').trim());
    this.name = 'ProjectError';
    this.code = code;
    this.file = file;
  }
}

export function isProjectError(err: unknown): err is ProjectError {
  return err instanceof ProjectError;
}

/** Turns a Node file-system error into a ProjectError that names the file and says what to do. */
export function fsError(err: unknown, file: string, doing: string): ProjectError {
  if (err instanceof ProjectError) return err;
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return new ProjectError('NOT_FOUND', `Cannot ${doing} "${file}": it does not exist.`, file);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new ProjectError(
        doing.startsWith('read') || doing.startsWith('hash') ? 'NOT_READABLE' : 'NOT_WRITABLE',
        `Cannot ${doing} "${file}": permission denied (${e.code}). Check the folder's permissions, or copy the project to a writable location.`,
        file,
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return new ProjectError('NOT_WRITABLE', `Cannot ${doing} "${file}": the disk is full. Free some space and save again; the previous save is intact.`, file);
    default:
      return new ProjectError(
        doing.startsWith('read') || doing.startsWith('hash') ? 'NOT_READABLE' : 'NOT_WRITABLE',
        `Cannot ${doing} "${file}": ${e?.message ?? String(err)}`,
        file,
      );
  }
}
