// What closing the window or quitting would lose, in words for the dialog that
// asks first. Pure, so it is tested without Electron.
import type { JobKind } from '../shared/contract';
import type { JobSummary } from './jobs/manager';

export interface PendingWork {
  unsavedEdits: boolean;
  jobs: readonly JobSummary[];
}

export interface CloseWarning {
  message: string;
  detail: string;
  /** The label of the button that goes ahead. */
  confirm: string;
}

const JOB_WORDS = { encode: 'an encode', export: 'an export', puppeteer: 'a puppeteering job', model: 'a model download or import', tune: 'a fine-tune', evaluate: 'an evaluation', conform: 'a constant-rate copy' } as const satisfies Record<JobKind, string>;

export function closeWarning(work: PendingWork, action: 'close' | 'quit'): CloseWarning | null {
  const { unsavedEdits, jobs } = work;
  if (!unsavedEdits && jobs.length === 0) return null;
  const verb = action === 'quit' ? 'Quit' : 'Close';
  const details: string[] = [];
  if (jobs.length > 0) {
    const kinds = [...new Set(jobs.map((j) => j.kind))];
    const what = jobs.length === 1 ? JOB_WORDS[jobs[0]!.kind] : `${jobs.length} jobs`;
    details.push(`${what[0]!.toUpperCase()}${what.slice(1)} ${jobs.length === 1 ? 'is' : 'are'} running and will be stopped.`);
    if (kinds.includes('encode')) details.push('An interrupted encode keeps the frames encoded so far, and during the identity search its progress of all but the last 2 minutes: open the project and encode again to resume.');
    if (kinds.includes('export')) details.push('An interrupted export leaves no partial file.');
    if (kinds.includes('tune')) details.push('An interrupted fine-tune keeps a checkpoint: fine-tune again with the same settings to resume.');
    if (kinds.includes('model')) details.push('An interrupted download keeps what it fetched and resumes from there next time.');
    if (kinds.includes('evaluate')) details.push('An interrupted evaluation leaves the last report as it was.');
    if (kinds.includes('conform')) details.push('An interrupted constant-rate copy leaves no partial file.');
  }
  if (unsavedEdits) details.push('Edits made in the last moments have not been saved yet and will be lost.');
  const jobsWord = jobs.length === 1 ? 'job' : 'jobs';
  const message =
    jobs.length === 0 ? `${verb} without saving your latest edits?` : action === 'quit' ? `Quit Stylecast Studio and stop the running ${jobsWord}?` : `Close the window and stop the running ${jobsWord}?`;
  return { message, detail: details.join(' '), confirm: jobs.length > 0 ? `Stop and ${verb}` : `${verb} Without Saving` };
}
