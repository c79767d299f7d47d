import { useRef, useState, type DragEvent } from 'react';
import { FolderIcon, UploadIcon } from '../ui/icons';
import { formatShortcut } from '../ui/shortcut';
import { VIDEO_FORMAT_NAMES } from './format';

interface DropZoneProps {
  onOpenVideo(): void;
  onDropFiles(files: File[]): void;
  busy: boolean;
}

const carriesFiles = (e: DragEvent): boolean => Array.from(e.dataTransfer.types).includes('Files');

/** The main call to action: a drop target with the Open video… button inside it. */
export function DropZone({ onOpenVideo, onDropFiles, busy }: DropZoneProps) {
  const [over, setOver] = useState(false);
  // dragenter/dragleave fire for every child element; count them to know when the pointer really left.
  const depth = useRef(0);

  const onDragEnter = (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth.current += 1;
    setOver(true);
  };
  const onDragOver = (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDragLeave = () => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setOver(false);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    depth.current = 0;
    setOver(false);
    const files = Array.from(e.dataTransfer.files);
    if (files.length > 0) onDropFiles(files);
  };

  return (
    <section
      className={`dropzone${over ? ' is-over' : ''}`}
      aria-labelledby="dropzone-title"
      aria-describedby="dropzone-hint"
      onDragEnter={onDragEnter}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      <div className="dropzone-icon">
        <UploadIcon width={28} height={28} />
      </div>
      <h2 id="dropzone-title" className="dropzone-title">
        {over ? 'Release to open this video' : 'Drop a video here to start'}
      </h2>
      <p id="dropzone-hint" className="dropzone-hint">
        One speaker facing the camera works best. Stylecast finds and aligns the face for you. Drop a .stylecast project folder to open it.
      </p>
      <ul className="format-list" aria-label="Supported formats">
        {VIDEO_FORMAT_NAMES.map((f) => (
          <li key={f}>{f}</li>
        ))}
      </ul>
      <button type="button" className="button button-primary button-large" onClick={onOpenVideo} disabled={busy} data-testid="open-video">
        <FolderIcon />
        <span>Open video…</span>
        <kbd aria-hidden="true">{formatShortcut('mod+o')}</kbd>
      </button>
    </section>
  );
}
