import { useCallback, useEffect, useRef, useState } from 'react';
import { PROJECT_EXTENSION, fileName, type ProjectSummary, type RecentProject, type StylecastApi } from '../../shared/contract';
import { errorMessage } from './api';
import { ExportDialog } from './dialogs/ExportDialog';
import { PuppeteerDialog } from './dialogs/PuppeteerDialog';
import { EditorScreen } from './editor/EditorScreen';
import { EncodeScreen } from './encode/EncodeScreen';
import { browserStore, recallEncode } from './encode/resumeStore';
import { ModelManager } from './models/ModelManager';
import { VIDEO_FORMAT_NAMES, orList } from './start/format';
import { classifyPath, leaveWarning, projectOpening, resumeRequest, type Screen } from './start/navigation';
import { StartScreen } from './start/StartScreen';
import { StatusBar } from './start/StatusBar';
import { TopBar } from './start/TopBar';
import { useAppStatus } from './start/useAppStatus';
import { ConfirmDialog } from './ui/ConfirmDialog';
import { plural } from './ui/format';
import { isModalOpen } from './ui/modalStack';
import { Toast, useToast } from './ui/Toast';
import { useShortcut } from './ui/useShortcut';

const FORMATS_TEXT = orList(VIDEO_FORMAT_NAMES);

type Dialog = { name: 'export'; edits: unknown } | { name: 'puppeteer' } | null;
type Pending = { title: string; message: string; confirmLabel: string; proceed(): void } | null;
type ResumeOffer = { project: ProjectSummary; must: boolean } | null;

export function App({ api }: { api: StylecastApi }) {
  const status = useAppStatus(api);
  const { toast, say, dismiss } = useToast();
  const [screen, setScreen] = useState<Screen>({ name: 'start' });
  const [dialog, setDialog] = useState<Dialog>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [resumeOffer, setResumeOffer] = useState<ResumeOffer>(null);
  const [recent, setRecent] = useState<RecentProject[] | null>(null);
  const [recentError, setRecentError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [encodeJob, setEncodeJob] = useState<string | null>(null);
  // Guards against a second dialog when a shortcut and the menu both fire.
  const inFlight = useRef(false);
  const encodeKey = useRef(0);

  // The screen under the model manager stays mounted (hidden) so an editor or a live encode keeps its state.
  const base: Screen = screen.name === 'models' ? screen.back : screen;

  useEffect(() => {
    api.invoke('recent:list').then(setRecent, (e: unknown) => setRecentError(`Recent projects could not be read: ${errorMessage(e)}`));
  }, [api]);

  // A project leaves memory in main when its editor goes away.
  const editorPath = base.name === 'editor' ? base.project.path : null;
  useEffect(() => {
    if (!editorPath) return;
    return () => void api.invoke('project:close', { project: editorPath }).catch(() => undefined);
  }, [api, editorPath]);

  /** Runs one open action at a time, reporting its failure in the toast. */
  const exclusive = useCallback(
    async (action: () => Promise<void>) => {
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
    },
    [say]
  );

  /** Leaves the current screen, asking first when that would stop a running encode. */
  const leave = useCallback(
    (proceed: () => void) => {
      const warning = leaveWarning(base, encodeJob);
      if (!warning) return proceed();
      const jobId = encodeJob;
      setPending({
        title: 'Stop the running encode?',
        message: warning,
        confirmLabel: 'Cancel encode and continue',
        proceed: () => {
          if (jobId) void api.invoke('job:cancel', { jobId }).catch((e: unknown) => say('error', `The encode could not be cancelled: ${errorMessage(e)}`));
          proceed();
        }
      });
    },
    [api, base, encodeJob, say]
  );

  const remember = useCallback(
    async (path: string) => {
      // Main accepts only paths the user showed it (a dialog, a drop, the stored recent list).
      const list = await api.invoke('recent:add', { path });
      setRecent(list);
      setRecentError(null);
    },
    [api]
  );

  const startEncodeScreen = useCallback(
    async (videoPath: string, resume: ProjectSummary | null) => {
      if (resume) {
        const store = browserStore();
        const req = resumeRequest(resume, store ? recallEncode(store, resume.path) : null);
        if ('error' in req) throw new Error(req.error);
        const video = await api.invoke('video:probe', { path: req.video });
        setScreen({ name: 'encode', video, resume: req, priorLoss: resume.loss.slice(0, resume.encodedThrough), key: ++encodeKey.current });
        return;
      }
      const video = await api.invoke('video:probe', { path: videoPath });
      setScreen({ name: 'encode', video, resume: null, priorLoss: [], key: ++encodeKey.current });
    },
    [api]
  );

  const openProjectPath = useCallback(
    (path: string) =>
      exclusive(async () => {
        await remember(path);
        const project = await api.invoke('project:open', { path });
        if (project.editsWarning) say('error', project.editsWarning);
        for (const n of project.notices) say('error', n);
        const next = projectOpening(project);
        if (next === 'editor') {
          setDialog(null);
          setScreen({ name: 'editor', project });
        } else setResumeOffer({ project, must: next === 'must-resume' });
      }),
    [api, exclusive, remember, say]
  );

  /** Reads the open project afresh (after a fine-tune) and keeps the editor on it. */
  const reopenEditor = useCallback(
    async (path: string) => {
      try {
        const project = await api.invoke('project:open', { path });
        setScreen((s) => (s.name === 'editor' && s.project.path === path ? { name: 'editor', project } : s));
      } catch (e) {
        say('error', errorMessage(e));
      }
    },
    [api, say]
  );

  const openVideoPath = useCallback(
    (path: string) =>
      exclusive(async () => {
        await remember(path);
        await startEncodeScreen(path, null);
      }),
    [exclusive, remember, startEncodeScreen]
  );

  /** Opens whatever a path is, after asking to leave the current screen if needed. */
  const openPath = useCallback(
    (raw: string) => {
      const { kind, path } = classifyPath(raw);
      if (kind === 'unknown') return say('error', `“${fileName(raw)}” is neither a video (${FORMATS_TEXT}) nor a Stylecast project (a NAME${PROJECT_EXTENSION} folder).`);
      leave(() => void (kind === 'video' ? openVideoPath(path) : openProjectPath(path)));
    },
    [leave, openProjectPath, openVideoPath, say]
  );

  const openVideo = useCallback(() => {
    if (inFlight.current) return;
    void api.invoke('dialog:openVideo').then(
      (path) => path && openPath(path),
      (e: unknown) => say('error', errorMessage(e))
    );
  }, [api, openPath, say]);

  const openProject = useCallback(() => {
    if (inFlight.current) return;
    void api.invoke('dialog:openProject').then(
      (path) => path && openPath(path),
      (e: unknown) => say('error', errorMessage(e))
    );
  }, [api, openPath, say]);

  const onDropFiles = useCallback(
    (files: File[]) => {
      if (files.length > 1) return say('error', `${files.length} files were dropped: drop one video or project at a time.`);
      const file = files[0]!;
      void api.openDroppedFile(file).then(
        (path) => {
          if (!path) return say('error', `The location of “${file.name}” is unknown (it may come from another app, not from disk). Save it to a folder first, then open it.`);
          openPath(path);
        },
        (e: unknown) => say('error', errorMessage(e))
      );
    },
    [api, openPath, say]
  );

  const goBack = useCallback(() => {
    if (screen.name === 'models') return setScreen(screen.back);
    if (screen.name === 'start') return;
    leave(() => {
      setDialog(null);
      setScreen({ name: 'start' });
    });
  }, [leave, screen]);

  const showModels = useCallback(() => setScreen((s) => (s.name === 'models' ? s : { name: 'models', back: s })), []);

  useShortcut('mod+o', openVideo, { enabled: dialog === null });
  useShortcut('mod+shift+o', openProject, { enabled: dialog === null });
  useShortcut('alt+arrowleft', goBack, { enabled: dialog === null && screen.name !== 'start' });

  useEffect(
    () =>
      api.on('menu:command', ({ command, path }) => {
        // Undo and redo belong to the open editor, which listens for them itself.
        if (command === 'undo' || command === 'redo') return;
        // A dialog may hold a running export or unsaved choices: it is closed by the user, not by a menu.
        if (isModalOpen()) return say('info', 'Close the open dialog first, then choose the menu item again.');
        if (command === 'open-video') openVideo();
        else if (command === 'open-project') openProject();
        else if (path) openPath(path);
      }),
    [api, openPath, openProject, openVideo, say]
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

  const editorProject = base.name === 'editor' ? base.project : null;

  const renderBase = () => {
    switch (base.name) {
      case 'start':
        return (
          <StartScreen
            recent={recent}
            recentError={recentError}
            busy={busy}
            onOpenVideo={openVideo}
            onOpenProject={openProject}
            onOpenRecent={openPath}
            onDropFiles={onDropFiles}
            onModels={showModels}
          />
        );
      case 'encode':
        return (
          <EncodeScreen
            key={base.key}
            api={api}
            video={base.video}
            models={status.models.state === 'ready' ? status.models.value : null}
            modelsError={status.models.state === 'error' ? status.models.message : null}
            resume={base.resume}
            priorLoss={base.priorLoss}
            onOpenProject={(path) => void openProjectPath(path)}
            onOpenVideo={(path) => void openVideoPath(path)}
            onActiveJob={setEncodeJob}
          />
        );
      case 'editor':
        return (
          <EditorScreen
            key={base.project.path}
            api={api}
            project={base.project}
            onClose={goBack}
            onExport={(edits) => setDialog({ name: 'export', edits })}
            onPuppeteer={() => setDialog({ name: 'puppeteer' })}
            onTuned={() => void reopenEditor(base.project.path)}
          />
        );
      case 'models':
        return null;
    }
  };

  return (
    <div className={`app${screen.name === 'start' ? ' app-start' : ''}`}>
      {screen.name !== 'start' && <TopBar screen={screen} info={status.info} onBack={goBack} backLabel={screen.name === 'models' ? 'Back' : base.name === 'editor' ? 'Close project' : 'Back to start'} onModels={showModels} />}
      <div className="screen" hidden={screen.name === 'models'}>
        {renderBase()}
      </div>
      {screen.name === 'models' && (
        <div className="screen">
          <ModelManager api={api} info={status.info} models={status.models} onRefresh={status.refreshModels} />
        </div>
      )}
      <StatusBar info={status.info} models={status.models} job={status.job} />

      {dialog?.name === 'export' && editorProject && <ExportDialog api={api} project={editorProject} edits={dialog.edits} onClose={() => setDialog(null)} />}
      {dialog?.name === 'puppeteer' && editorProject && (
        <PuppeteerDialog
          api={api}
          project={editorProject}
          onClose={() => setDialog(null)}
          onOpenProject={(path) => {
            setDialog(null);
            void openProjectPath(path);
          }}
        />
      )}
      {resumeOffer && (
        <ConfirmDialog
          title={resumeOffer.must ? 'This project is not encoded yet' : 'This project is partly encoded'}
          confirmLabel="Resume encode"
          cancelLabel="Not now"
          onCancel={() => setResumeOffer(null)}
          onConfirm={() => {
            const { project } = resumeOffer;
            setResumeOffer(null);
            void exclusive(() => startEncodeScreen(project.source.path ?? '', project));
          }}
          extra={
            resumeOffer.must
              ? undefined
              : {
                  label: 'Open in editor',
                  onClick: () => {
                    const { project } = resumeOffer;
                    setResumeOffer(null);
                    setScreen({ name: 'editor', project });
                  }
                }
          }
        >
          <p>
            {resumeOffer.project.name}: {plural(resumeOffer.project.encodedThrough, 'frame')} of {resumeOffer.project.frameCount} are encoded
            {resumeOffer.project.identitySearchSaved ? ', and part of the identity search is saved (the encode goes on from it)' : ''}.{' '}
            {resumeOffer.must ? 'Resume the encode to edit it.' : 'Resume the encode to finish it, or edit the frames encoded so far.'}
          </p>
        </ConfirmDialog>
      )}
      {pending && (
        <ConfirmDialog
          title={pending.title}
          confirmLabel={pending.confirmLabel}
          cancelLabel="Stay"
          danger
          onCancel={() => setPending(null)}
          onConfirm={() => {
            const { proceed } = pending;
            setPending(null);
            proceed();
          }}
        >
          <p>{pending.message}</p>
        </ConfirmDialog>
      )}
      <Toast toast={toast} onDismiss={dismiss} />
    </div>
  );
}
