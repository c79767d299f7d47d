import { useRef, type ReactNode } from 'react';
import { Button } from './Button';
import { Modal } from './Modal';

export interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  /** Red confirm button for actions that discard or stop something. */
  danger?: boolean;
  onConfirm(): void;
  onCancel(): void;
  /** A third choice between cancel and confirm (e.g. "Open in editor" beside "Resume encode"). */
  extra?: { label: string; onClick(): void };
}

/** Asks before something is discarded or stopped; the safe choice has the focus. */
export function ConfirmDialog({ title, children, confirmLabel, cancelLabel = 'Cancel', danger = false, onConfirm, onCancel, extra }: ConfirmDialogProps) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  return (
    <Modal
      title={title}
      onClose={onCancel}
      role="alertdialog"
      width={460}
      initialFocus={danger ? cancelRef : confirmRef}
      data-testid="confirm-dialog"
      footer={
        <>
          <Button ref={cancelRef} variant="ghost" onClick={onCancel} data-testid="confirm-cancel">
            {cancelLabel}
          </Button>
          {extra && (
            <Button variant="secondary" onClick={extra.onClick} data-testid="confirm-extra">
              {extra.label}
            </Button>
          )}
          <Button ref={confirmRef} variant={danger ? 'danger' : 'primary'} onClick={onConfirm} data-testid="confirm-ok">
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="confirm-text">{children}</div>
    </Modal>
  );
}
