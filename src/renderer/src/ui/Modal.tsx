import { useEffect, useId, useRef, type ReactNode, type RefObject } from 'react';
import { createPortal } from 'react-dom';
import { CloseIcon } from './icons';
import { IconButton } from './IconButton';
import { isModalOpen, isTopModal, pushModal, removeModal } from './modalStack';

export interface ModalProps {
  title: string;
  /** Called on Escape, the close button and a click on the backdrop (unless dismissible is false). */
  onClose(): void;
  children: ReactNode;
  /** Buttons at the bottom, right-aligned. */
  footer?: ReactNode;
  /** A line under the title. */
  subtitle?: ReactNode;
  /** false while closing would lose something the dialog cannot keep (the caller shows why). Default true. */
  dismissible?: boolean;
  width?: number;
  /** Focused when the dialog opens; default the first focusable control. */
  initialFocus?: RefObject<HTMLElement | null>;
  /** 'alertdialog' for confirmations. */
  role?: 'dialog' | 'alertdialog';
  'data-testid'?: string;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function setAppInert(inert: boolean) {
  const root = document.getElementById('root');
  if (root) root.inert = inert;
}

/** A modal dialog: focus moves in and is trapped, Escape closes, focus returns where it was. */
export function Modal({ title, onClose, children, footer, subtitle, dismissible = true, width = 560, initialFocus, role = 'dialog', ...rest }: ModalProps) {
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const dismissibleRef = useRef(dismissible);
  dismissibleRef.current = dismissible;

  useEffect(() => {
    const token = pushModal(title);
    setAppInert(true);
    const returnTo = document.activeElement as HTMLElement | null;
    const first = initialFocus?.current ?? panel.current?.querySelector<HTMLElement>(`.modal-body ${FOCUSABLE}`) ?? panel.current?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? panel.current)?.focus();

    const onKey = (e: KeyboardEvent) => {
      if (!isTopModal(token)) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        if (dismissibleRef.current) onCloseRef.current();
        return;
      }
      if (e.key !== 'Tab' || !panel.current) return;
      const items = Array.from(panel.current.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null || el === document.activeElement);
      if (items.length === 0) {
        e.preventDefault();
        return;
      }
      const firstItem = items[0]!;
      const lastItem = items[items.length - 1]!;
      const active = document.activeElement;
      if (e.shiftKey && (active === firstItem || !panel.current.contains(active))) {
        e.preventDefault();
        lastItem.focus();
      } else if (!e.shiftKey && (active === lastItem || !panel.current.contains(active))) {
        e.preventDefault();
        firstItem.focus();
      }
    };
    // Capture, so shortcuts registered on the window do not see keys meant for the dialog.
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      removeModal(token);
      if (!isModalOpen()) setAppInert(false);
      if (returnTo && document.contains(returnTo)) returnTo.focus();
    };
    // Runs once per opening; title and initialFocus are read at open time on purpose.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return createPortal(
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && dismissible) onClose();
      }}
    >
      <div ref={panel} className="modal" role={role} aria-modal="true" aria-labelledby={titleId} style={{ width }} tabIndex={-1} data-testid={rest['data-testid']}>
        <header className="modal-header">
          <div className="modal-titles">
            <h2 id={titleId}>{title}</h2>
            {subtitle && <p className="modal-subtitle">{subtitle}</p>}
          </div>
          <IconButton label="Close" icon={<CloseIcon width={18} height={18} />} shortcut="escape" onClick={onClose} disabled={!dismissible} tooltipSide="left" data-testid="modal-close" />
        </header>
        <div className="modal-body">{children}</div>
        {footer && <footer className="modal-footer">{footer}</footer>}
      </div>
    </div>,
    document.body
  );
}
