// Editor state hooks: the undoable document, coalesced engine requests, and autosave.
import { useCallback, useEffect, useRef, useState, type RefCallback } from 'react';
import type { StylecastApi } from '../../../shared/contract';
import {
  beginGesture,
  cancelGesture,
  commitGesture,
  createHistory,
  pushEdit,
  redo as redoStep,
  serializeTimeline,
  undo as undoStep,
  updateGesture,
  type History,
  type TimelineDoc
} from '../../../core/timeline';
import { errorMessage } from '../api';

export interface DocControls {
  history: History<TimelineDoc>;
  doc: TimelineDoc;
  /** One undo step; a TimelineError is reported through onError and changes nothing. */
  apply(label: string, edit: (doc: TimelineDoc) => TimelineDoc): void;
  /** Starts a drag: every update is computed from the document the drag started from. */
  begin(label: string): void;
  update(edit: (base: TimelineDoc) => TimelineDoc): void;
  commit(): void;
  cancel(): void;
  undo(): void;
  redo(): void;
}

export function useDocHistory(initial: () => TimelineDoc, onError: (message: string) => void): DocControls {
  const [history, setHistory] = useState(() => createHistory(initial()));
  // Handlers of pointer events read the latest history without waiting for a render.
  const ref = useRef(history);
  const set = useCallback((h: History<TimelineDoc>) => {
    ref.current = h;
    setHistory(h);
  }, []);
  const guard = useCallback(
    (f: () => History<TimelineDoc>) => {
      try {
        set(f());
      } catch (e) {
        onError(errorMessage(e));
      }
    },
    [onError, set]
  );
  return {
    history,
    doc: history.present,
    apply: useCallback((label, edit) => guard(() => pushEdit(ref.current, edit(ref.current.present), label)), [guard]),
    begin: useCallback((label) => set(beginGesture(ref.current, label)), [set]),
    update: useCallback(
      (edit) =>
        guard(() => {
          const h = ref.current;
          return updateGesture(h, edit(h.gesture ? h.gesture.base : h.present));
        }),
      [guard]
    ),
    commit: useCallback(() => set(commitGesture(ref.current)), [set]),
    cancel: useCallback(() => set(cancelGesture(ref.current)), [set]),
    undo: useCallback(() => set(undoStep(ref.current)), [set]),
    redo: useCallback(() => set(redoStep(ref.current)), [set])
  };
}

/**
 * Runs `run(key)` for the latest key only: while a request is in flight, newer
 * keys replace each other and the last one runs when it returns (the latest
 * edit wins, and the engine never queues stale frames).
 */
export function useLatestRequest<K, R>(key: K | null, keyId: (k: K) => string, run: (k: K) => Promise<R>): { result: R | null; error: string | null; busy: boolean } {
  const [state, setState] = useState<{ result: R | null; error: string | null; busy: boolean }>({ result: null, error: null, busy: false });
  const inFlight = useRef(false);
  const pending = useRef<K | null>(null);
  const lastDone = useRef<string | null>(null);
  const runRef = useRef(run);
  runRef.current = run;
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const start = useCallback(
    (k: K) => {
      inFlight.current = true;
      setState((s) => ({ ...s, busy: true }));
      runRef.current(k).then(
        (result) => {
          lastDone.current = keyId(k);
          if (alive.current) setState({ result, error: null, busy: false });
        },
        (e: unknown) => {
          lastDone.current = keyId(k);
          if (alive.current) setState((s) => ({ ...s, error: errorMessage(e), busy: false }));
        }
      ).finally(() => {
        inFlight.current = false;
        const next = pending.current;
        pending.current = null;
        if (next !== null && alive.current && keyId(next) !== lastDone.current) start(next);
      });
    },
    [keyId]
  );

  const id = key === null ? null : keyId(key);
  useEffect(() => {
    if (key === null) return;
    // While one runs, the newest key waits (even one equal to the last result, so a stale wait is dropped).
    if (inFlight.current) pending.current = key;
    else if (id !== lastDone.current) start(key);
    // The id stands for the key.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, start]);
  return state;
}

export type SaveState = 'saved' | 'unsaved' | 'saving' | 'error';

/**
 * Saves the document a short while after each change (and at once when the
 * editor goes away), through project:saveEdits, which writes atomically.
 */
export function useAutosave(api: StylecastApi, project: string, doc: TimelineDoc, delayMs = 800): { state: SaveState; error: string | null; flush(): Promise<boolean> } {
  const saved = useRef<TimelineDoc>(doc);
  const latest = useRef(doc);
  latest.current = doc;
  const [state, setState] = useState<SaveState>('saved');
  const [error, setError] = useState<string | null>(null);
  const saving = useRef<Promise<boolean> | null>(null);

  const flush = useCallback(async (): Promise<boolean> => {
    while (saving.current) await saving.current;
    const target = latest.current;
    if (target === saved.current) return true;
    setState('saving');
    const p = api.invoke('project:saveEdits', { project, edits: serializeTimeline(target) }).then(
      () => {
        saved.current = target;
        setError(null);
        setState(latest.current === target ? 'saved' : 'unsaved');
        return true;
      },
      (e: unknown) => {
        setError(errorMessage(e));
        setState('error');
        return false;
      }
    );
    saving.current = p;
    try {
      return await p;
    } finally {
      saving.current = null;
    }
  }, [api, project]);

  useEffect(() => {
    if (doc === saved.current) {
      // Undo or redo back to what is on disk: nothing to save.
      setState((s) => (s === 'saving' ? s : 'saved'));
      return;
    }
    setState((s) => (s === 'saving' ? s : 'unsaved'));
    const timer = window.setTimeout(() => void flush(), delayMs);
    return () => window.clearTimeout(timer);
  }, [doc, delayMs, flush]);

  // Nothing lost when the editor closes: the last edits go out before the project is closed.
  useEffect(
    () => () => {
      if (latest.current !== saved.current) void api.invoke('project:saveEdits', { project, edits: serializeTimeline(latest.current) }).catch(() => undefined);
    },
    [api, project]
  );

  // Main's close and quit guard asks before discarding edits that are not on disk.
  const unsaved = state !== 'saved';
  useEffect(() => {
    api.invoke('window:setUnsavedChanges', { unsaved }).catch(() => undefined);
  }, [api, unsaved]);
  useEffect(() => () => void api.invoke('window:setUnsavedChanges', { unsaved: false }).catch(() => undefined), [api]);

  // The window asks before closing while edits are not on disk.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (latest.current === saved.current) return;
      void flush();
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [flush]);

  return { state, error, flush };
}

/** Element size, kept current with a ResizeObserver. */
export function useElementSize<T extends HTMLElement>(): [RefCallback<T>, { width: number; height: number }] {
  const [size, setSize] = useState({ width: 0, height: 0 });
  const observer = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: T | null) => {
    observer.current?.disconnect();
    if (!el) return;
    observer.current = new ResizeObserver(([entry]) => {
      const r = entry!.contentRect;
      setSize((s) => (s.width === r.width && s.height === r.height ? s : { width: r.width, height: r.height }));
    });
    observer.current.observe(el);
  }, []);
  return [ref, size];
}

/** window.devicePixelRatio, kept current when the window moves to a screen of another density or the page zoom changes. */
export function useDevicePixelRatio(): number {
  const [dpr, setDpr] = useState(() => window.devicePixelRatio || 1);
  useEffect(() => {
    // A resolution query matches only the current ratio, so it fires once on a change and is then replaced.
    let query: MediaQueryList | null = null;
    const watch = () => {
      const now = window.devicePixelRatio || 1;
      setDpr(now);
      query?.removeEventListener('change', watch);
      query = window.matchMedia(`(resolution: ${now}dppx)`);
      query.addEventListener('change', watch);
    };
    watch();
    return () => query?.removeEventListener('change', watch);
  }, []);
  return dpr;
}
