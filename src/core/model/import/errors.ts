/** A checkpoint could not be read or mapped: the message names the file and what is wrong. */
export class CheckpointError extends Error {
  readonly code = 'CHECKPOINT';
}
