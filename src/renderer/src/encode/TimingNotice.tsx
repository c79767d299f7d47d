// The warning for a variable-frame-rate video, with the way out: a constant-rate copy written by
// main (a job of kind conform, with progress and Stop), which then opens in place of the video.
// Leaving the setup stops a copy under way: nothing would show it or open it.
import { useEffect, useRef, useState } from 'react';
import { fileName, type StylecastApi, type VideoInfo } from '../../../shared/contract';
import { errorMessage } from '../api';
import { Button } from '../ui/Button';
import { CancelJobButton, JobProgressBar } from '../ui/JobStatus';
import { siblingPath, stem } from '../ui/paths';
import { InlineNotice } from '../ui/Toast';
import { useJob } from '../ui/useJob';

/** Where the copy is offered: beside the video, "NAME (constant rate).mp4". */
export const constantRatePath = (video: string): string => siblingPath(video, `${stem(video) || 'video'} (constant rate).mp4`);

export interface TimingNoticeProps {
  api: StylecastApi;
  video: VideoInfo;
  onOpenVideo(path: string): void;
  /** Whether a copy is being chosen or written (the encode waits for it). */
  onBusy(busy: boolean): void;
}

export function TimingNotice({ api, video, onOpenVideo, onBusy }: TimingNoticeProps) {
  const job = useJob(api, 'conform');
  const [choosing, setChoosing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { phase, path, message, jobId } = job.state;
  const running = phase === 'starting' || phase === 'running';
  const busy = choosing || running;

  useEffect(() => onBusy(busy), [busy, onBusy]);

  // The finished copy replaces the video on this screen (once per job, whatever re-renders).
  const opened = useRef<string | null>(null);
  useEffect(() => {
    if (phase !== 'done' || !path || opened.current === jobId) return;
    opened.current = jobId;
    onOpenVideo(path);
  }, [phase, path, jobId, onOpenVideo]);

  // Unmounting with a copy under way (Back, another video, the encode started elsewhere) stops it.
  const cancelRef = useRef(job.cancel);
  cancelRef.current = job.cancel;
  const runningRef = useRef(running);
  runningRef.current = running;
  useEffect(
    () => () => {
      if (runningRef.current) void cancelRef.current();
    },
    []
  );

  const make = async () => {
    if (busy) return;
    setError(null);
    setChoosing(true);
    try {
      const out = await api.invoke('dialog:save', { kind: 'copy', defaultPath: constantRatePath(video.path) });
      if (out) await job.start(() => api.invoke('video:conform', { video: video.path, out }));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setChoosing(false);
    }
  };

  if (!video.timingWarning) return null;
  return (
    <InlineNotice kind="warning" data-testid="encode-timing-warning">
      <p className="timing-notice-text">{video.timingWarning}</p>
      {running || phase === 'done' ? (
        <div className="timing-notice-job">
          <JobProgressBar job={job.state} label="Constant-rate copy" data-testid="conform-progress" />
          {running && <CancelJobButton job={job.state} label="Stop" onClick={() => void job.cancel()} data-testid="conform-cancel" />}
          {phase === 'done' && path && (
            <Button onClick={() => onOpenVideo(path)} data-testid="conform-open" title={path}>
              Open {fileName(path)}
            </Button>
          )}
        </div>
      ) : (
        <Button onClick={() => void make()} disabled={choosing} data-testid="conform-start">
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
