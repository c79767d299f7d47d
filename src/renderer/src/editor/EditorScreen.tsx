// The editor: viewer and transport, head gizmo and inspectors, and the
// timeline (dope sheet / graph editor) over the project's 35 tracks.
import { audioTimeOf, frameAtAudioTime } from './playback';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ProjectSummary, StylecastApi } from '../../../shared/contract';
import {
  MAX_SMOOTH_SIGMA,
  PARAM_COUNT,
  TimelineError,
  canRedo,
  canUndo,
  copyKeys,
  createIdSource,
  deleteKeys,
  editableTracks,
  emptyTimeline,
  evaluateFrame,
  keyedOffset,
  parseTimeline,
  pasteKeys,
  redoLabel,
  resetAll,
  resetRange,
  resetTracks,
  serializeTimeline,
  smoothRange,
  undoLabel,
  type KeyClipboard,
  type TimelineDoc
} from '../../../core/timeline';
import { errorMessage } from '../api';
import { EvaluatePanel } from './EvaluatePanel';
import { TuneDialog } from '../tune/TuneDialog';
import { canCompareTuning } from '../tune/tuneForm';
import { Button, IconButton, InlineNotice, SegmentedControl, Toast, formatShortcut, useShortcut, useToast } from '../ui';
import { editableKeyIds, keysAt, offsetAt, pastableKeys, setEditedValueAt } from './actions';
import './editor.css';
import { formatTimecode } from './geometry';
import { HeadGizmo, type PoseAxis, type PoseDelta } from './HeadGizmo';
import { useAutosave, useDocHistory } from './hooks';
import { CopyIcon, EndIcon, ExportIcon, KeyIcon, PasteIcon, PauseIcon, PlayIcon, PuppetIcon, RedoIcon, ResetIcon, SmoothIcon, StartIcon, StepBackIcon, StepForwardIcon, TrashIcon, UndoIcon } from './icons';
import { KeyInspector, NumberInput, PosePanel, RangePanel, RegionPanel } from './Panels';
import { Timeline, type FrameRange, type TimelineMode } from './Timeline';
import { evalContext, trackInfos } from './tracks';
import { Viewer, type ViewerMode } from './Viewer';

export interface EditorScreenProps {
  api: StylecastApi;
  project: ProjectSummary;
  onClose(): void;
  onExport(edits: unknown): void;
  onPuppeteer(): void;
  /** A fine-tune finished: reopen the project so the editor renders its new delta. */
  onTuned(): void;
}

function loadDoc(project: ProjectSummary): { doc: TimelineDoc; error: string | null } {
  const frames = Math.max(1, project.frameCount);
  if (project.edits === null) return { doc: emptyTimeline(frames), error: null };
  try {
    return { doc: parseTimeline(project.edits, frames), error: null };
  } catch (e) {
    return { doc: emptyTimeline(frames), error: `The saved edits of this project could not be read (${e instanceof TimelineError ? e.message : errorMessage(e)}). The editor starts without edits; your next edit replaces them.` };
  }
}

export function EditorScreen({ api, project, onClose, onExport, onPuppeteer, onTuned }: EditorScreenProps) {
  const { toast, say, dismiss } = useToast();
  const loaded = useMemo(() => loadDoc(project), [project]);
  const onError = useCallback((m: string) => say('error', m), [say]);
  // A damaged edits file was moved aside when the project opened: say so once.
  useEffect(() => {
    if (project.editsWarning) say('error', project.editsWarning);
  }, [project.editsWarning, say]);
  const controls = useDocHistory(() => loaded.doc, onError);
  const { doc, history } = controls;
  const ctx = useMemo(() => evalContext(project), [project]);
  const tracks = useMemo(() => trackInfos(project), [project]);
  const frames = ctx?.frames ?? 0;
  const fps = project.fps > 0 ? project.fps : 30;
  const save = useAutosave(api, project.path, doc);

  const [playhead, setPlayheadRaw] = useState(() => ctx?.neutralFrame ?? 0);
  const playheadRef = useRef(playhead);
  const setPlayhead = useCallback((f: number) => {
    playheadRef.current = f;
    setPlayheadRaw(f);
  }, []);
  const [selectedKeys, setSelectedKeys] = useState<ReadonlySet<string>>(new Set());
  const [selectedTracks, setSelectedTracks] = useState<readonly number[]>([3]);
  const [range, setRange] = useState<FrameRange | null>(null);
  const [mode, setMode] = useState<TimelineMode>('dope');
  const [viewerMode, setViewerMode] = useState<ViewerMode>('side');
  const [beforeTuning, setBeforeTuning] = useState(false);
  const comparable = canCompareTuning(project);
  const [playing, setPlaying] = useState<0 | 1 | -1>(0);
  const [sigma, setSigma] = useState(3);
  const clipboard = useRef<KeyClipboard | null>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const [audioUrl, setAudioUrl] = useState<string | null>(null);

  const editable = useMemo(() => editableTracks(doc, project.paramGroups), [doc, project.paramGroups]);
  const current = useMemo(() => (ctx ? evaluateFrame(doc, ctx, Math.min(playhead, frames - 1)) : new Float32Array(PARAM_COUNT)), [doc, ctx, playhead, frames]);

  useEffect(() => {
    if (loaded.error) say('error', loaded.error);
  }, [loaded.error, say]);

  // Audio of the source video, played in step with the playhead.
  useEffect(() => {
    const path = project.source.path;
    if (!path || !project.source.hasAudio) return;
    let live = true;
    api.invoke('media:url', { path }).then(
      ({ url }) => live && setAudioUrl(url),
      (e: unknown) => live && say('info', `Playback is silent: the source audio is unavailable (${errorMessage(e)}).`)
    );
    return () => {
      live = false;
    };
  }, [api, project.source.path, project.source.hasAudio, say]);

  useEffect(() => {
    if (!playing || frames < 1) return;
    const el = audio.current;
    const withAudio = playing === 1 && el !== null && audioUrl !== null;
    let from = playheadRef.current;
    if (playing === 1 && from >= frames - 1) from = 0;
    const t0 = performance.now();
    const first = project.source.firstFrame;
    const offset = project.source.firstFrameAtSec;
    if (withAudio) {
      el.currentTime = audioTimeOf(from, first, fps, offset);
      el.play().catch(() => undefined);
    }
    let raf = 0;
    const tick = () => {
      const clock = from + Math.floor(((performance.now() - t0) / 1000) * fps) * playing;
      const f = withAudio && !el.paused && el.currentTime > 0 ? frameAtAudioTime(el.currentTime, first, fps, offset) : clock;
      if (f >= frames - 1 || f <= 0) {
        setPlayhead(Math.min(frames - 1, Math.max(0, f)));
        if (!(playing === 1 && f <= 0)) {
          setPlaying(0);
          return;
        }
      } else if (f !== playheadRef.current) setPlayhead(f);
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(raf);
      el?.pause();
    };
  }, [playing, frames, fps, audioUrl, setPlayhead]);

  const step = (by: number) => {
    setPlaying(0);
    setPlayhead(Math.min(frames - 1, Math.max(0, playheadRef.current + by)));
  };

  // ---- edits ------------------------------------------------------------------

  const editableSelected = selectedTracks.filter((t) => editable[t]);
  const addKeys = () => {
    if (!ctx) return;
    if (editableSelected.length === 0) return say('info', selectedTracks.length ? 'The region lock leaves the selected tracks uneditable.' : 'Select a track first (click its name).');
    let ids: string[] = [];
    controls.apply(editableSelected.length > 1 ? 'Add keys' : 'Add key', (d) => {
      const r = keysAt(d, editableSelected, playheadRef.current, createIdSource(d));
      ids = r.ids;
      return r.doc;
    });
    setSelectedKeys(new Set(ids));
  };
  const removeKeys = () => {
    if (selectedKeys.size === 0) return;
    const ids = editableKeyIds(doc, selectedKeys, editable);
    if (ids.length === 0) return say('info', 'The region lock leaves the selected keys uneditable.');
    controls.apply(ids.length > 1 ? 'Delete keys' : 'Delete key', (d) => deleteKeys(d, new Set(ids)));
    setSelectedKeys(new Set());
  };
  const copy = () => {
    const clip = copyKeys(doc, selectedKeys);
    if (!clip) return say('info', 'Select keys to copy first.');
    clipboard.current = clip;
    say('info', `Copied ${clip.keys.length} key${clip.keys.length === 1 ? '' : 's'}: paste with ${formatShortcut('mod+v')} at the playhead.`);
  };
  const paste = () => {
    const clip = clipboard.current;
    if (!clip) return say('info', 'Nothing to paste: copy keys first.');
    let ids: string[] = [];
    controls.apply('Paste keys', (d) => {
      const target = editableSelected.length === 1 ? editableSelected[0] : undefined;
      const r = pasteKeys(d, { keys: pastableKeys(clip.keys, editable, target) }, playheadRef.current, createIdSource(d), target);
      ids = r.ids;
      return r.doc;
    });
    setSelectedKeys(new Set(ids));
  };
  const smooth = () => {
    if (!ctx) return;
    const targets = editableSelected.length ? editableSelected : tracks.filter((t) => editable[t.index]).map((t) => t.index);
    const r = range ?? { start: 0, end: frames - 1 };
    controls.apply(`Smooth ${targets.length === 1 ? tracks[targets[0]!]!.name : `${targets.length} tracks`}`, (d) => smoothRange(d, ctx, targets, r.start, r.end, sigma));
  };
  const reset = (what: string) => {
    const targets = editableSelected;
    if (what === 'all') controls.apply('Reset everything to encoded', (d) => resetAll(d));
    else if (targets.length === 0) say('info', 'Select the tracks to reset first.');
    else if (what === 'tracks') controls.apply('Reset tracks to encoded', (d) => resetTracks(d, targets));
    else if (!range) say('info', 'Select a range first (Shift+drag in the ruler, or I and O).');
    else controls.apply('Reset range to encoded', (d) => resetRange(d, targets, range.start, range.end, createIdSource(d)));
    setSelectedKeys(new Set());
  };

  const poseEditable = editable[0]! && editable[1]! && editable[2]!;
  const gizmoAxes = useRef<PoseAxis | 'free'>('free');
  const poseGesture = {
    begin: (axis: PoseAxis | 'free') => {
      gizmoAxes.current = axis;
      controls.begin(axis === 'free' ? 'Rotate head' : `Rotate head (${axis})`);
    },
    drag: (t: PoseDelta) => controls.update((base) => offsetAt(base, playheadRef.current, [[0, t.yaw], [1, t.pitch], [2, t.roll]], createIdSource(base))),
    end: () => controls.commit(),
    cancel: () => controls.cancel(),
    nudge: (axis: PoseAxis, by: number) => controls.apply(`Nudge ${axis}`, (d) => offsetAt(d, playheadRef.current, [[{ yaw: 0, pitch: 1, roll: 2 }[axis], by]], createIdSource(d)))
  };

  // ---- shortcuts -------------------------------------------------------------------

  const on = ctx !== null;
  useShortcut('mod+z', () => controls.undo(), { enabled: on });
  useShortcut(['mod+shift+z', 'mod+y'], () => controls.redo(), { enabled: on });
  useShortcut('mod+c', copy, { enabled: on, allowInInputs: false });
  useShortcut('mod+v', paste, { enabled: on, allowInInputs: false });
  useShortcut(['delete', 'backspace'], removeKeys, { enabled: on });
  useShortcut('k', addKeys, { enabled: on });
  useShortcut('space', () => setPlaying((p) => (p ? 0 : 1)), { enabled: on });
  useShortcut('l', () => setPlaying(1), { enabled: on });
  useShortcut('j', () => setPlaying(-1), { enabled: on });
  useShortcut('arrowleft', () => step(-1), { enabled: on });
  useShortcut('arrowright', () => step(1), { enabled: on });
  useShortcut('shift+arrowleft', () => step(-10), { enabled: on });
  useShortcut('shift+arrowright', () => step(10), { enabled: on });
  useShortcut('home', () => step(-frames), { enabled: on });
  useShortcut('end', () => step(frames), { enabled: on });
  useShortcut('i', () => setRange((r) => ({ start: playheadRef.current, end: Math.max(playheadRef.current, r?.end ?? frames - 1) })), { enabled: on });
  useShortcut('o', () => setRange((r) => ({ start: Math.min(playheadRef.current, r?.start ?? 0), end: playheadRef.current })), { enabled: on });
  useShortcut('g', () => setMode((m) => (m === 'dope' ? 'graph' : 'dope')), { enabled: on });
  useShortcut('b', () => setBeforeTuning((b) => !b), { enabled: on && comparable });
  useShortcut('escape', () => {
    setSelectedKeys(new Set());
    setRange(null);
  }, { enabled: on, preventDefault: false });
  // The button and the shortcut both put the latest edits on disk before the dialog opens.
  const exportNow = () => void save.flush().finally(() => onExport(serializeTimeline(doc)));
  useShortcut('mod+e', exportNow, { enabled: on });

  const onTrackClick = (track: number, how: 'only' | 'toggle' | 'extend') =>
    setSelectedTracks((sel) => {
      if (how === 'only') return [track];
      if (how === 'toggle') return sel.includes(track) ? sel.filter((t) => t !== track) : [...sel, track];
      const last = sel[sel.length - 1] ?? track;
      const [a, b] = last <= track ? [last, track] : [track, last];
      return [...new Set([...sel, ...Array.from({ length: b - a + 1 }, (_, i) => a + i)])];
    });

  const saveText = { saved: 'All changes saved', unsaved: 'Unsaved changes', saving: 'Saving…', error: `Not saved: ${save.error ?? ''}` }[save.state];
  const [evaluating, setEvaluating] = useState(false);
  const [tuning, setTuning] = useState(false);
  const undoText = undoLabel(history);
  const redoText = redoLabel(history);

  // Edit > Undo / Redo in the application menu name and run these same steps.
  useEffect(() => {
    if (!on) return;
    void api.invoke('menu:setEditState', { undo: undoText, redo: redoText }).catch(() => {});
  }, [api, on, undoText, redoText]);
  const { undo: undoNow, redo: redoNow } = controls;
  useEffect(() => {
    if (!on) return;
    return api.on('menu:command', ({ command }) => {
      if (command === 'undo') undoNow();
      else if (command === 'redo') redoNow();
    });
  }, [api, on, undoNow, redoNow]);
  // Leaving the editor gives the menu back its plain text-editing items.
  useEffect(() => {
    if (!on) return;
    return () => void api.invoke('menu:setEditState', null).catch(() => {});
  }, [api, on]);

  if (!ctx) {
    return (
      <div className="editor editor-empty">
        <InlineNotice kind="warning">
          {project.name} has no encoded frames yet ({project.encodedThrough} of {project.frameCount}). Encode it first, then open it again to edit.
        </InlineNotice>
        <Button onClick={onClose}>Close project</Button>
      </div>
    );
  }

  const pose = [current[0]!, current[1]!, current[2]!];
  const poseOffsets = [0, 1, 2].map((t) => keyedOffset(doc, t, playhead));

  return (
    <div className="editor" data-testid="editor">
      <header className="editor-toolbar" aria-label="Editor toolbar">
        <div className="toolbar-title">
          <h1>{project.name}</h1>
          <span className="toolbar-meta">
            {frames} frames · {fps.toFixed(fps % 1 ? 2 : 0)} fps · {project.model.name}
          </span>
        </div>
        <div className="toolbar-group" role="group" aria-label="History">
          <IconButton label={undoText ? `Undo ${undoText}` : 'Undo'} icon={<UndoIcon />} shortcut="mod+z" disabled={!canUndo(history)} onClick={controls.undo} data-testid="undo" tooltipSide="bottom" />
          <IconButton label={redoText ? `Redo ${redoText}` : 'Redo'} icon={<RedoIcon />} shortcut="mod+shift+z" disabled={!canRedo(history)} onClick={controls.redo} data-testid="redo" tooltipSide="bottom" />
        </div>
        <div className="toolbar-group" role="group" aria-label="Keys">
          <IconButton label="Add key at playhead on the selected tracks" icon={<KeyIcon />} shortcut="k" onClick={addKeys} data-testid="add-key" tooltipSide="bottom" />
          <IconButton label="Delete selected keys" icon={<TrashIcon />} shortcut="delete" disabled={selectedKeys.size === 0} onClick={removeKeys} data-testid="delete-keys" tooltipSide="bottom" />
          <IconButton label="Copy selected keys" icon={<CopyIcon />} shortcut="mod+c" disabled={selectedKeys.size === 0} onClick={copy} tooltipSide="bottom" />
          <IconButton label="Paste keys at the playhead" icon={<PasteIcon />} shortcut="mod+v" onClick={paste} tooltipSide="bottom" />
        </div>
        <div className="toolbar-group" role="group" aria-label="Smoothing and reset">
          <IconButton label={`Smooth ${range ? 'the selected range' : 'the whole clip'} of the selected tracks (Gaussian, σ ${sigma} frames)`} icon={<SmoothIcon />} onClick={smooth} data-testid="smooth" tooltipSide="bottom" />
          <div className="sigma-field">
            <NumberInput label="σ" value={sigma} step={0.5} min={0.5} max={MAX_SMOOTH_SIGMA} decimals={1} suffix="fr" testId="smooth-sigma" onCommit={setSigma} />
          </div>
          <label className="reset-select" title="Back to the encoded values">
            <ResetIcon />
            <span className="visually-hidden">Reset to encoded</span>
            <select
              value=""
              aria-label="Reset to encoded"
              data-testid="reset"
              onChange={(e) => {
                reset(e.target.value);
                e.target.value = '';
              }}
            >
              <option value="" disabled>
                Reset…
              </option>
              <option value="tracks">Selected tracks</option>
              <option value="range">Selected tracks in the range</option>
              <option value="all">Everything</option>
            </select>
          </label>
        </div>
        <span className={`save-state save-${save.state}`} role="status" data-testid="save-state" data-state={save.state}>
          <span className="dot" aria-hidden="true" />
          {saveText}
        </span>
        <div className="toolbar-group toolbar-end">
          <Button variant="secondary" size="small" onClick={() => setEvaluating(true)} data-testid="open-evaluate">
            Evaluate…
          </Button>
          <Button variant="secondary" size="small" onClick={() => setTuning(true)} data-testid="open-tune">
            Fine-tune…
          </Button>
          <Button variant="secondary" size="small" icon={<PuppetIcon />} onClick={onPuppeteer} data-testid="open-puppeteer">
            Puppeteer…
          </Button>
          <Button variant="primary" size="small" icon={<ExportIcon />} shortcut="mod+e" onClick={exportNow} data-testid="open-export">
            Export…
          </Button>
        </div>
      </header>
      {evaluating && <EvaluatePanel api={api} project={project.path} onClose={() => setEvaluating(false)} />}
      {tuning && <TuneDialog api={api} project={project} onClose={() => setTuning(false)} onTuned={onTuned} />}

      <div className="editor-main">
        <div className="editor-stage">
          <Viewer api={api} project={project} frame={playhead} params={current} mode={viewerMode} onMode={setViewerMode} beforeTuning={comparable ? beforeTuning : null} onBeforeTuning={setBeforeTuning} />
          <div className="transport" role="group" aria-label="Transport">
            <IconButton label="Go to start" icon={<StartIcon />} shortcut="home" onClick={() => step(-frames)} />
            <IconButton label="Previous frame" icon={<StepBackIcon />} shortcut="left" onClick={() => step(-1)} data-testid="frame-back" />
            <IconButton label={playing ? 'Pause' : 'Play'} icon={playing ? <PauseIcon /> : <PlayIcon />} shortcut="space" pressed={playing !== 0} onClick={() => setPlaying((p) => (p ? 0 : 1))} data-testid="play" className="play-button" />
            <IconButton label="Next frame" icon={<StepForwardIcon />} shortcut="right" onClick={() => step(1)} data-testid="frame-forward" />
            <IconButton label="Go to end" icon={<EndIcon />} shortcut="end" onClick={() => step(frames)} />
            <span className="timecode" data-testid="timecode" aria-live="off">
              {formatTimecode(playhead, fps)}
              <span className="timecode-frame">
                frame {playhead} / {frames - 1}
              </span>
            </span>
            <input
              type="range"
              className="scrubber"
              min={0}
              max={Math.max(0, frames - 1)}
              value={playhead}
              aria-label="Playhead frame"
              aria-valuetext={`${formatTimecode(playhead, fps)}, frame ${playhead}`}
              onChange={(e) => {
                setPlaying(0);
                setPlayhead(Number(e.target.value));
              }}
              data-testid="playhead"
            />
            {!project.source.hasAudio ? <span className="transport-note">No audio</span> : !audioUrl ? <span className="transport-note">Audio unavailable</span> : null}
            {audioUrl && (
              <audio
                ref={audio}
                src={audioUrl}
                preload="auto"
                onError={() => {
                  // An AVI source, say: the encode and export read it, the browser cannot play it.
                  setAudioUrl(null);
                  say('info', 'Playback is silent: this source\'s sound cannot be played here (export still includes it).');
                }}
              />
            )}
          </div>
        </div>

        <aside className="editor-side" aria-label="Inspector">
          <section className="panel-section" aria-label="Head pose">
            <h3>
              Head pose <span className="unit-note" title={tracks[0]!.unitHint}>{tracks[0]!.unit === '°' ? 'degrees' : 'pseudo-degrees'}</span>
            </h3>
            <HeadGizmo
              pose={{ yaw: pose[0]!, pitch: pose[1]!, roll: pose[2]! }}
              unit={tracks[0]!.unit}
              disabled={poseEditable ? null : 'The region lock excludes pose: choose All or Pose to turn the head.'}
              onBegin={poseGesture.begin}
              onDrag={poseGesture.drag}
              onEnd={poseGesture.end}
              onCancel={poseGesture.cancel}
              onNudge={poseGesture.nudge}
            />
            <PosePanel tracks={tracks} pose={pose} offsets={poseOffsets} editable={poseEditable} onSet={(t, v) => controls.apply(`Set ${tracks[t]!.name}`, (d) => setEditedValueAt(d, ctx, t, playheadRef.current, v, createIdSource(d)))} />
          </section>
          <KeyInspector doc={doc} tracks={tracks} selected={selectedKeys} frames={frames} fps={fps} editable={editable} controls={controls} />
          <RangePanel doc={doc} tracks={tracks} fps={fps} frames={frames} range={range} onRange={setRange} selectedTracks={selectedTracks} editable={editable} controls={controls} />
          <RegionPanel doc={doc} tracks={tracks} controls={controls} />
        </aside>
      </div>

      <section className="timeline" aria-label="Timeline">
        <div className="timeline-header">
          <SegmentedControl<TimelineMode>
            label="Timeline view"
            hideLabel
            options={[
              { value: 'dope', label: 'Dope sheet', hint: 'Keys of every track (G)' },
              { value: 'graph', label: 'Graph editor', hint: 'Curves of the selected tracks (G)' }
            ]}
            value={mode}
            onChange={setMode}
            data-testid="timeline-mode"
          />
          <span className="timeline-hint">
            {mode === 'graph' ? 'Dashed: encoded · solid: edited. Drag keys and handles; Alt breaks tangents.' : 'Shift+drag the ruler (or I / O) to select a range · Ctrl+wheel zooms · double-click fits.'}
          </span>
          {range && (
            <span className="range-chip" data-testid="range-chip">
              Range {(range.start / fps).toFixed(2)}–{(range.end / fps).toFixed(2)} s
              <button type="button" className="icon-button icon-button-small" aria-label="Clear range" onClick={() => setRange(null)}>
                ×
              </button>
            </span>
          )}
        </div>
        <Timeline
          doc={doc}
          ctx={ctx}
          tracks={tracks}
          fps={fps}
          playhead={playhead}
          onPlayhead={(f) => {
            setPlaying(0);
            setPlayhead(f);
          }}
          selectedKeys={selectedKeys}
          onSelectKeys={setSelectedKeys}
          selectedTracks={selectedTracks}
          onTrackClick={onTrackClick}
          editable={editable}
          mode={mode}
          range={range}
          onRange={setRange}
          controls={controls}
          current={current}
          onError={onError}
        />
      </section>
      <Toast toast={toast} onDismiss={dismiss} />
    </div>
  );
}
