import { useEffect } from 'react';
import { CloseIcon } from './icons';

export interface NoticeMessage {
  kind: 'info' | 'error';
  text: string;
  /** Distinguishes repeats of the same text so the timer restarts. */
  id: number;
}

const INFO_TIMEOUT_MS = 6000;

/** A transient message above the status bar. Errors stay until dismissed. */
export function Notice({ notice, onDismiss }: { notice: NoticeMessage | null; onDismiss(): void }) {
  useEffect(() => {
    if (notice?.kind !== 'info') return;
    const timer = setTimeout(onDismiss, INFO_TIMEOUT_MS);
    return () => clearTimeout(timer);
  }, [notice, onDismiss]);

  return (
    <div className="notice-region" aria-live="polite">
      {notice && (
        <div className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          <span>{notice.text}</span>
          <button type="button" className="icon-button" onClick={onDismiss} aria-label="Dismiss message">
            <CloseIcon width={16} height={16} />
          </button>
        </div>
      )}
    </div>
  );
}
