// What the Evaluate panel shows and offers, from the plot main drew and the evaluation job.
import type { JobState } from '../ui/jobState';

export interface EvaluationView {
  /** A line above the plot, or none. */
  notice: { kind: 'info' | 'success' | 'error'; text: string } | null;
  /** The footer's button: start an evaluation, or stop the running one. */
  action: { kind: 'run'; label: string } | { kind: 'cancel' };
  /** The job's progress bar, while it runs and after it ended. */
  showProgress: boolean;
}

/** `plot`: main's last answer to project:evaluation (null while it draws). */
export function evaluationView(plot: { evaluated: boolean } | null, job: JobState): EvaluationView {
  const running = job.phase === 'starting' || job.phase === 'running';
  const evaluated = plot?.evaluated ?? false;
  const action: EvaluationView['action'] = running ? { kind: 'cancel' } : { kind: 'run', label: evaluated ? 'Evaluate again' : 'Run evaluation' };
  let notice: EvaluationView['notice'] = null;
  if (job.phase === 'failed') notice = { kind: 'error', text: job.message };
  else if (job.phase === 'cancelled') notice = { kind: 'info', text: evaluated ? 'The evaluation was stopped: the plots are those of the last evaluation.' : 'The evaluation was stopped before it finished: nothing was written.' };
  else if (job.phase === 'done') notice = { kind: 'success', text: job.message };
  else if (!running && plot && !evaluated) {
    notice = {
      kind: 'info',
      text: "This project has not been evaluated yet: the plot shows the encoder's loss per frame. Run the evaluation (as stylecast eval does) for PSNR, SSIM, identity and jitter; it writes eval.json and eval.png into the project."
    };
  }
  return { notice, action, showProgress: job.phase !== 'idle' };
}
