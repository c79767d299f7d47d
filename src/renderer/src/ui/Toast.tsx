import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { CloseIcon } from './icons';

export interface ToastMessage {
  kind: 'info' | 'success' | 'error';
  text: string;
  /** Distinguishes repeats of the same text so the timer restarts. */
  id: number;
  /** An optional action ("Show in folder"). */
  action?: { label: string; onClick(): void };
}

const TIMEOUT_MS = 6000;

/** One transient message at a time above the status bar. Errors stay until dismissed; nothing else blocks. */
export function Toast({ toast, onDismiss }: { toast: ToastMessage | null; onDismiss(): void }) {
  useEffect(() => {
    if (!toast || toast.kind === 'error') return;
    const timer = setTimeout(onDismiss, TIMEOUT_MS);
    return () => clearTimeout(timer);
  }, [toast, onDismiss]);

  return (
    <div className="notice-region" aria-live="polite">
      {toast && (
        <div className={`notice notice-${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'} data-testid={`toast-${toast.kind}`}>
          <span className="notice-text">{toast.text}</span>
          {toast.action && (
            <button type="button" className="notice-action" onClick={toast.action.onClick}>
              {toast.action.label}
            </button>
          )}
          <button type="button" className="icon-button" onClick={onDismiss} aria-label="Dismiss message">
            <CloseIcon width={16} height={16} />
          </button>
        </div>
      )}
    </div>
  );
}

/** State for <Toast>: `say(kind, text)` shows a message, replacing the previous one. */
export function useToast() {
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const next = useRef(0);
  const say = useCallback((kind: ToastMessage['kind'], text: string, action?: ToastMessage['action']) => setToast({ kind, text, action, id: ++next.current }), []);
  const dismiss = useCallback(() => setToast(null), []);
  return { toast, say, dismiss };
}

/** A message that stays in the layout (inside a form or a panel), for errors and hints tied to a place. */
export function InlineNotice({ kind, children, 'data-testid': testId }: { kind: 'info' | 'warning' | 'error' | 'success'; children: ReactNode; 'data-testid'?: string }) {
  return (
    <div className={`inline-notice inline-notice-${kind}`} role={kind === 'error' ? 'alert' : undefined} data-testid={testId}>
      {children}
    </div>
  );
}
