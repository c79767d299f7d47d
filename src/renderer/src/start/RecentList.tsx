import type { RecentProject } from '../../../shared/contract';
import { ClockIcon, FilmIcon, ProjectIcon } from '../ui/icons';
import { dirName as folderOf } from '../ui/paths';
import { formatShortcut } from '../ui/shortcut';
import { openedAgo } from './format';

interface RecentListProps {
  /** null while loading. */
  projects: RecentProject[] | null;
  error: string | null;
  onOpen(project: RecentProject): void;
  busy: boolean;
}

export function RecentList({ projects, error, onOpen, busy }: RecentListProps) {
  return (
    <section className="panel recent" aria-labelledby="recent-title">
      <header className="panel-header">
        <h2 id="recent-title">Recent projects</h2>
        {projects && projects.length > 0 && <span className="count">{projects.length}</span>}
      </header>
      {error ? (
        <p className="panel-message is-error" role="alert">
          {error}
        </p>
      ) : projects === null ? (
        <p className="panel-message" aria-busy="true">
          Loading recent projects…
        </p>
      ) : projects.length === 0 ? (
        <div className="empty">
          <ClockIcon width={28} height={28} className="empty-icon" />
          <p className="empty-title">Nothing opened yet</p>
          <p className="empty-text">
            Videos and projects you open are listed here, newest first, so you can pick up where you left off in one click.
          </p>
          <p className="empty-tip">
            Press <kbd>{formatShortcut('mod+o')}</kbd> to choose a video, or drag one onto the drop area.
          </p>
        </div>
      ) : (
        <ul className="recent-list">
          {projects.map((p) => (
            <li key={p.path}>
              <button
                type="button"
                className={`recent-item${p.missing ? ' is-missing' : ''}`}
                onClick={() => onOpen(p)}
                disabled={busy}
                title={p.missing ? `${p.path} (not found: it may have been moved or deleted)` : p.path}
                aria-label={`Open ${p.name}${p.missing ? ' (file not found)' : ''}, from ${folderOf(p.path)}`}
              >
                <span className="recent-icon">{p.kind === 'video' ? <FilmIcon /> : <ProjectIcon />}</span>
                <span className="recent-text">
                  <span className="recent-name">{p.name}</span>
                  <span className="recent-path">{folderOf(p.path)}</span>
                </span>
                <span className="recent-meta">
                  {p.missing ? <span className="badge badge-warning">Not found</span> : <time dateTime={p.openedAt}>{openedAgo(p.openedAt)}</time>}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
