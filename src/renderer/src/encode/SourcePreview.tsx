import { useEffect, useRef, useState } from 'react';
import type { StylecastApi, VideoInfo } from '../../../shared/contract';
import { formatDuration } from '../ui/format';

export interface SourcePreviewProps {
  api: StylecastApi;
  video: VideoInfo;
  /** The source frame to show. */
  frame: number;
  /** A caption over the corner ("Identity frame", "Range start"). */
  caption?: string;
}

/**
 * The source video seeked to one frame, through the app's media URL. Falls back to
 * the probe's poster (first frame) when the video cannot be played in the page.
 */
export function SourcePreview({ api, video, frame, caption }: SourcePreviewProps) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const [seeking, setSeeking] = useState(false);
  const el = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    let live = true;
    setUrl(null);
    setFailed(false);
    api.invoke('media:url', { path: video.path }).then(
      (r) => live && setUrl(r.url),
      () => live && setFailed(true)
    );
    return () => {
      live = false;
    };
  }, [api, video.path]);

  useEffect(() => {
    const v = el.current;
    if (!v || !url || failed) return;
    const seek = () => {
      // The middle of the frame, so rounding never lands on its neighbour; frame 0 is shown at
      // firstFrameAtSec on the element's clock (a video stream that starts after its sound).
      const t = Math.min(video.firstFrameAtSec + (frame + 0.5) / video.fps, Math.max(0, (v.duration || video.durationSec) - 0.001));
      if (Math.abs(v.currentTime - t) > 0.25 / video.fps) {
        setSeeking(true);
        v.currentTime = t;
      }
    };
    if (v.readyState >= 1) seek();
    else v.addEventListener('loadedmetadata', seek, { once: true });
    return () => v.removeEventListener('loadedmetadata', seek);
  }, [url, failed, frame, video.fps, video.durationSec]);

  const showPoster = failed || !url;
  return (
    <div className="source-preview" style={{ aspectRatio: `${video.width} / ${video.height}` }}>
      {showPoster ? (
        <img src={video.poster} alt={`First frame of ${video.path}`} />
      ) : (
        <video
          ref={el}
          src={url}
          muted
          preload="auto"
          playsInline
          aria-label={`Frame ${frame} of the source video`}
          onSeeked={() => setSeeking(false)}
          onError={() => setFailed(true)}
        />
      )}
      <div className="preview-overlay">
        {caption && <span className="preview-caption">{caption}</span>}
        <span className="preview-time">
          {showPoster ? 'First frame' : `Frame ${frame} · ${formatDuration(frame / video.fps)}`}
          {seeking && !showPoster ? ' …' : ''}
        </span>
      </div>
      {failed && <p className="preview-note">The video cannot be played here, so the first frame is shown; the encode reads the file itself.</p>}
    </div>
  );
}
