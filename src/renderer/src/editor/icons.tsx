// Line icons for the editor's toolbar and transport (24-unit grid, currentColor, decorative).
import type { ReactNode, SVGProps } from 'react';

type P = SVGProps<SVGSVGElement>;

function Icon({ children, ...props }: P & { children: ReactNode }) {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false" {...props}>
      {children}
    </svg>
  );
}

export const UndoIcon = (p: P) => <Icon {...p}><path d="M9 14 4 9l5-5" /><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" /></Icon>;
export const RedoIcon = (p: P) => <Icon {...p}><path d="m15 14 5-5-5-5" /><path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13" /></Icon>;
export const PlayIcon = (p: P) => <Icon {...p}><path d="M7 4.5v15l12-7.5z" fill="currentColor" /></Icon>;
export const PauseIcon = (p: P) => <Icon {...p}><path d="M8 5v14M16 5v14" strokeWidth="3" /></Icon>;
export const StepBackIcon = (p: P) => <Icon {...p}><path d="M17 5v14l-9-7z" fill="currentColor" /><path d="M6 5v14" /></Icon>;
export const StepForwardIcon = (p: P) => <Icon {...p}><path d="M7 5v14l9-7z" fill="currentColor" /><path d="M18 5v14" /></Icon>;
export const StartIcon = (p: P) => <Icon {...p}><path d="M5 5v14M19 5v14l-11-7z" /></Icon>;
export const EndIcon = (p: P) => <Icon {...p}><path d="M19 5v14M5 5v14l11-7z" /></Icon>;
export const KeyIcon = (p: P) => <Icon {...p}><path d="m12 4 8 8-8 8-8-8z" /><path d="M12 9v6M9 12h6" /></Icon>;
export const TrashIcon = (p: P) => <Icon {...p}><path d="M4 7h16M9 7V4.5h6V7M6.5 7l1 12.5h9l1-12.5" /></Icon>;
export const CopyIcon = (p: P) => <Icon {...p}><rect x="8" y="8" width="12" height="12" rx="2" /><path d="M16 8V5.5A1.5 1.5 0 0 0 14.5 4h-9A1.5 1.5 0 0 0 4 5.5v9A1.5 1.5 0 0 0 5.5 16H8" /></Icon>;
export const PasteIcon = (p: P) => <Icon {...p}><rect x="5" y="5" width="14" height="16" rx="2" /><path d="M9 5V3.5h6V5M9 11h6M9 15h4" /></Icon>;
export const SmoothIcon = (p: P) => <Icon {...p}><path d="M3 15c3-8 5 4 9-3s6 3 9-2" /></Icon>;
export const ResetIcon = (p: P) => <Icon {...p}><path d="M4 12a8 8 0 1 0 2.5-5.8L4 8.5" /><path d="M4 4v4.5h4.5" /></Icon>;
export const ExportIcon = (p: P) => <Icon {...p}><path d="M12 15V4M7.5 8.5 12 4l4.5 4.5" /><path d="M4 14v3.5A2.5 2.5 0 0 0 6.5 20h11a2.5 2.5 0 0 0 2.5-2.5V14" /></Icon>;
export const PuppetIcon = (p: P) => <Icon {...p}><circle cx="12" cy="10" r="4.5" /><path d="M12 2v3.5M5 4l3.5 3M19 4l-3.5 3M8 20c.8-2.5 2.2-4 4-4s3.2 1.5 4 4" /></Icon>;
