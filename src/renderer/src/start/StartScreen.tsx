import type { RecentProject } from '../../../shared/contract';
import { Button } from '../ui/Button';
import { CubeIcon, LogoMark, ProjectIcon } from '../ui/icons';
import { DropZone } from './DropZone';
import { RecentList } from './RecentList';

export interface StartScreenProps {
  recent: RecentProject[] | null;
  recentError: string | null;
  busy: boolean;
  onOpenVideo(): void;
  onOpenProject(): void;
  onOpenRecent(path: string): void;
  onDropFiles(files: File[]): void;
  onModels(): void;
}

export function StartScreen({ recent, recentError, busy, onOpenVideo, onOpenProject, onOpenRecent, onDropFiles, onModels }: StartScreenProps) {
  return (
    <main className="start">
      <header className="start-header">
        <LogoMark />
        <div className="start-title">
          <h1>Stylecast Studio</h1>
          <p className="tagline">Edit pose and expression of talking-head video in StyleGAN2 latent space.</p>
        </div>
        <Button variant="ghost" icon={<CubeIcon width={18} height={18} />} onClick={onModels} data-testid="open-models">
          Models
        </Button>
        <Button variant="ghost" icon={<ProjectIcon />} shortcut="mod+shift+o" onClick={onOpenProject} disabled={busy} data-testid="open-project">
          Open project…
        </Button>
      </header>

      <div className="start-grid">
        <DropZone onOpenVideo={onOpenVideo} onDropFiles={onDropFiles} busy={busy} />
        <RecentList projects={recent} error={recentError} onOpen={(p) => onOpenRecent(p.path)} busy={busy} />
      </div>
    </main>
  );
}
