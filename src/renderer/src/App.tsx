import { useCallback, useEffect, useRef, useState } from 'react';
import { fileName, isVideoPath, type RecentProject, type StylecastApi } from '../../shared/contract';
import { errorMessage } from './api';
import { DropZone } from './start/DropZone';
import { LogoMark, ProjectIcon } from './start/icons';
import { Notice, type NoticeMessage } from './start/Notice';
import { RecentList } from './start/RecentList';
import { StatusBar } from './start/StatusBar';
import { VIDEO_FORMAT_NAMES, orList, shortcutLabel } from './start/format';
import { useAppStatus } from './start/useAppStatus';

const FORMATS_TEXT = orList(VIDEO_FORMAT_NAMES);

export function App({ api }: { api: StylecastApi }) {
  const status = useAppStatus(api);
  const [recent, setRecent] = useState<RecentProject[] | null>(null);
  const [recentError, setRecentError] = useState<string | null>(null);
  const [notice, setNotice] = useState<NoticeMessage | null>(null);
  const [busy, setBusy] = useState(false);
  // Guards against a second dialog when a shortcut and the menu both fire.
  const inFlight = useRef(false);
  const noticeId = useRef(0);

  const say = useCallback((kind: NoticeMessage['kind'], text: string) => setNotice({ kind, text, id: ++noticeId.current }), []);
  const dismissNotice = useCallback(() => setNotice(null), []);

  useEffect(() => {
    api.invoke('recent:list').then(setRecent, (e: unknown) => setRecentError(`Recent projects could not be read: ${errorMessage(e)}`));
  }, [api]);

  /** Runs one open action at a time, reporting its failure in the notice. */
  const exclusive = useCallback(async (action: () => Promise<void>) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    try {
      await action();
    } catch (e) {
      say('error', errorMessage(e));
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }, [say]);

  const openPath = useCallback(
    async (path: string) => {
      const list = await api.invoke('recent:add', { path });
      setRecent(list);
      setRecentError(null);
      say('info', `“${fileName(path)}” is now first in Recent projects.`);
    },
    [api, say]
  );

  const openVideo = useCallback(
    () =>
      exclusive(async () => {
        const path = await api.invoke('dialog:openVideo');
        if (path) await openPath(path);
      }),
    [api, exclusive, openPath]
  );

  const openProject = useCallback(
    () =>
      exclusive(async () => {
        const path = await api.invoke('dialog:openProject');
        if (path) await openPath(path);
      }),
    [api, exclusive, openPath]
  );

  const openRecent = useCallback((path: string) => exclusive(() => openPath(path)), [exclusive, openPath]);

  const onDropFiles = useCallback(
    (files: File[]) => {
      const file = files[0]!;
      if (files.length > 1) {
        say('error', `${files.length} files were dropped: drop one video at a time.`);
        return;
      }
      if (!isVideoPath(file.name)) {
        say('error', `“${file.name}” is not a video Stylecast can open. Use an ${FORMATS_TEXT} file.`);
        return;
      }
      const path = api.pathForFile(file);
      if (!path) {
        say('error', `The location of “${file.name}” is unknown (it may come from another app, not from disk). Save it to a folder first, then open it.`);
        return;
      }
      void exclusive(() => openPath(path));
    },
    [api, exclusive, openPath, say]
  );

  // Shortcuts; the menu shows the same keys and sends the same commands.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.key.toLowerCase() !== 'o') return;
      e.preventDefault();
      void (e.shiftKey ? openProject() : openVideo());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openProject, openVideo]);

  useEffect(
    () =>
      api.on('menu:command', ({ command, path }) => {
        if (command === 'open-video') void openVideo();
        else if (command === 'open-project') void openProject();
        else if (path) void openRecent(path);
      }),
    [api, openProject, openRecent, openVideo]
  );

  // A file dropped outside the drop zone must not be opened by the browser engine.
  useEffect(() => {
    const block = (e: DragEvent) => e.preventDefault();
    window.addEventListener('dragover', block);
    window.addEventListener('drop', block);
    return () => {
      window.removeEventListener('dragover', block);
      window.removeEventListener('drop', block);
    };
  }, []);

  return (
    <div className="app">
      <main className="start">
        <header className="start-header">
          <LogoMark />
          <div className="start-title">
            <h1>Stylecast Studio</h1>
            <p className="tagline">Edit pose and expression of talking-head video in StyleGAN2 latent space.</p>
          </div>
          <button type="button" className="button button-ghost" onClick={() => void openProject()} disabled={busy}>
            <ProjectIcon />
            <span>Open project…</span>
            <kbd aria-hidden="true">{shortcutLabel('O', { shift: true })}</kbd>
          </button>
        </header>

        <div className="start-grid">
          <DropZone onOpenVideo={() => void openVideo()} onDropFiles={onDropFiles} busy={busy} />
          <RecentList projects={recent} error={recentError} onOpen={(p) => void openRecent(p.path)} busy={busy} />
        </div>
      </main>
      <Notice notice={notice} onDismiss={dismissNotice} />
      <StatusBar info={status.info} models={status.models} job={status.job} />
    </div>
  );
}
