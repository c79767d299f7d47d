// The warning for a variable-frame-rate video, with the way out: a constant-rate copy written by
// main (a job of kind conform, with progress and Stop), which then opens in place of the video.
import { useEffect, useRef, useState } from 'react';
import type { StylecastApi, VideoInfo } from '../../../shared/contract';
import { errorMessage } from '../api';
import { Button } from '../ui/Button';
import { CancelJobButton, JobProgressBar } from '../ui/JobStatus';
import { siblingPath, stem } from '../ui/paths';
import { InlineNotice } from '../ui/Toast';
import { useJob } from '../ui/useJob';

/** Where the copy is offered: beside the video, "NAME (constant rate).mp4". */
export const constantRatePath = (video: string): string => siblingPath(video, `${stem(video) || 'video'} (constant rate).mp4`);

export function TimingNotice({ api, video, onOpenVideo }: { api: StylecastApi; video: VideoInfo; onOpenVideo(path: string): void }) {
  const job = useJob(api, 'conform');
  const [error, setError] = useState<string | null>(null);
  const { phase, path, message, jobId } = job.state;
  const running = phase === 'starting' || phase === 'running';

  // The finished copy replaces the video on this screen (once per job, whatever re-renders).
  const opened = useRef<string | null>(null);
  useEffect(() => {
    if (phase !== 'done' || !path || opened.current === jobId) return;
    opened.current = jobId;
    onOpenVideo(path);
  }, [phase, path, jobId, onOpenVideo]);

  const make = async () => {
    setError(null);
    const out = await api.invoke('dialog:save', { kind: 'video', defaultPath: constantRatePath(video.path) }).catch((e: unknown) => {
      setError(errorMessage(e));
      return null;
    });
    if (out) await job.start(() => api.invoke('video:conform', { video: video.path, out }));
  };

  if (!video.timingWarning) return null;
  return (
    <InlineNotice kind="warning" data-testid="encode-timing-warning">
      <p className="timing-notice-text">{video.timingWarning}</p>
      {running || phase === 'done' ? (
        <div className="timing-notice-job">
          <JobProgressBar job={job.state} label="Constant-rate copy" data-testid="conform-progress" />
          {running && <CancelJobButton job={job.state} label="Stop" onClick={() => void job.cancel()} data-testid="conform-cancel" />}
        </div>
      ) : (
        <Button onClick={() => void make()} data-testid="conform-start">
          Make Constant-Rate Copy…
        </Button>
      )}
      {(phase === 'failed' || phase === 'cancelled') && (
        <p className="timing-notice-text" role={phase === 'failed' ? 'alert' : undefined} data-testid="conform-message">
          {phase === 'cancelled' ? 'Stopped: no copy was written.' : message}
        </p>
      )}
      {error && (
        <p className="timing-notice-text" role="alert">
          {error}
        </p>
      )}
    </InlineNotice>
  );
}
