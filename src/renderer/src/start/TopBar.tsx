import type { AppInfo } from '../../../shared/contract';
import { IconButton } from '../ui/IconButton';
import { ArrowLeftIcon, ChipIcon, CubeIcon, LogoMark } from '../ui/icons';
import type { Loadable } from './loadable';
import { screenTitle, type Screen } from './navigation';

export interface TopBarProps {
  screen: Screen;
  info: Loadable<AppInfo>;
  /** Back to where the screen was opened from (start, or the screen before Models). */
  onBack(): void;
  backLabel: string;
  onModels(): void;
}

/** The bar above every screen but the start screen: where you are, the device, back and Models. */
export function TopBar({ screen, info, onBack, backLabel, onModels }: TopBarProps) {
  const { title, context } = screenTitle(screen);
  const device = info.state === 'ready' ? info.value.device : null;
  return (
    <header className="topbar">
      <IconButton label={backLabel} icon={<ArrowLeftIcon width={18} height={18} />} shortcut="alt+arrowleft" onClick={onBack} tooltipSide="bottom" data-testid="topbar-back" />
      <LogoMark size={22} />
      <nav className="topbar-crumbs" aria-label="Location">
        <span className="crumb-app">Stylecast Studio</span>
        <span className="crumb-sep" aria-hidden="true">
          /
        </span>
        <span className="crumb-screen" aria-current="page">
          {title}
        </span>
        {context && (
          <>
            <span className="crumb-sep" aria-hidden="true">
              /
            </span>
            <span className="crumb-context" title={context} data-testid="topbar-project">
              {context}
            </span>
          </>
        )}
      </nav>
      <span className="topbar-spacer" />
      {device && (
        <span className="device-chip" title={device === 'cuda' ? 'Running on the GPU through the CUDA provider' : 'Running on the CPU'}>
          <ChipIcon width={14} height={14} />
          {device.toUpperCase()}
        </span>
      )}
      {screen.name !== 'models' && <IconButton label="Models and device" icon={<CubeIcon width={18} height={18} />} onClick={onModels} tooltipSide="bottom" data-testid="topbar-models" />}
    </header>
  );
}
