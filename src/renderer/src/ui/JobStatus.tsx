import { Button } from './Button';
import { StopIcon } from './icons';
import type { JobState } from './jobState';
import { ProgressBar } from './ProgressBar';

/** The progress bar of a job tracked with useJob, coloured by how it ended. */
export function JobProgressBar({ job, label, 'data-testid': testId }: { job: JobState; label: string; 'data-testid'?: string }) {
  const { phase } = job;
  const running = phase === 'starting' || phase === 'running';
  return (
    <ProgressBar
      value={phase === 'done' ? 1 : (job.progress?.fraction ?? (phase === 'starting' ? null : 0))}
      label={label}
      etaSec={running ? (job.progress?.etaSec ?? null) : null}
      detail={phase === 'done' ? 'Finished' : phase === 'failed' ? 'Failed' : phase === 'cancelled' ? 'Cancelled' : (job.progress?.message ?? 'Starting')}
      tone={phase === 'done' ? 'done' : phase === 'failed' ? 'error' : phase === 'cancelled' ? 'paused' : 'active'}
      data-testid={testId}
    />
  );
}

/** Stop button of a running job; disabled until the job has an id and while a cancel is on its way. */
export function CancelJobButton({ job, label, onClick, 'data-testid': testId }: { job: JobState; label: string; onClick(): void; 'data-testid'?: string }) {
  return (
    <Button variant="danger" icon={<StopIcon width={16} height={16} />} onClick={onClick} disabled={job.cancelling || job.phase === 'starting'} data-testid={testId}>
      {job.cancelling ? 'Cancelling…' : label}
    </Button>
  );
}
