// The viewer: the aligned source crop, the engine's re-render of the edited
// parameters at the playhead, a wipe between them, or both side by side.
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { ImageResult, ProjectSummary, StylecastApi } from '../../../shared/contract';
import { SegmentedControl } from '../ui';
import { useLatestRequest } from './hooks';
import { SETTLE_MS, adaptPreviewSize, initialPreviewSize, viewerRenderSize } from './preview';

export type ViewerMode = 'source' | 'render' | 'wipe' | 'side';

const MODES = [
  { value: 'source', label: 'Source', hint: 'The aligned source crop the encoder saw' },
  { value: 'render', label: 'Render', hint: 'The edited frame rendered by the engine' },
  { value: 'wipe', label: 'Wipe', hint: 'Source left of the divider, render right of it; drag the divider' },
  { value: 'side', label: 'Side by side', hint: 'Source and render next to each other' }
] as const;

const TUNING = [
  { value: 'before', label: 'Before', hint: 'The untuned network, as before fine-tuning (B)' },
  { value: 'after', label: 'After', hint: "The fine-tuned network: the model plus the project's delta (B)" }
] as const;

interface RenderKey {
  frame: number;
  params: number[];
  size: number;
  untuned: boolean;
}

export interface ViewerProps {
  api: StylecastApi;
  project: ProjectSummary;
  frame: number;
  params: Float32Array | null;
  mode: ViewerMode;
  onMode(m: ViewerMode): void;
  /** For a tuned project: whether the render shows the network before fine-tuning; null when there is nothing to compare. */
  beforeTuning: boolean | null;
  onBeforeTuning(before: boolean): void;
}

export function Viewer({ api, project, frame, params, mode, onMode, beforeTuning, onBeforeTuning }: ViewerProps) {
  const resolution = project.model.resolution;
  const size = Math.min(resolution, 512);
  // A small preview while the playhead or the parameters move; the full resolution once they rest.
  const paramsId = params ? Array.from(params).join(',') : '';
  const [settled, setSettled] = useState(true);
  const [previewSize, setPreviewSize] = useState(() => initialPreviewSize(resolution));
  useEffect(() => {
    setSettled(false);
    const t = setTimeout(() => setSettled(true), SETTLE_MS);
    return () => clearTimeout(t);
  }, [frame, paramsId]);
  const renderSize = viewerRenderSize(resolution, settled, previewSize);
  // Only what the mode shows is requested: no decoding of hidden source frames during playback.
  const untuned = beforeTuning === true;
  const renderKey: RenderKey | null = params && mode !== 'source' ? { frame, params: Array.from(params), size: renderSize, untuned } : null;
  const render = useLatestRequest<RenderKey, ImageResult>(
    renderKey,
    useCallback((k: RenderKey) => `${k.frame}:${k.size}:${k.untuned}:${k.params.join(',')}`, []),
    useCallback(
      (k: RenderKey) =>
        api.invoke('render:frame', { project: project.path, frame: k.frame, params: k.params, size: k.size, untuned: k.untuned }).then((r) => {
          if (k.size < resolution) setPreviewSize((s) => (s === k.size ? adaptPreviewSize(resolution, s, r.ms) : s));
          return r;
        }),
      [api, project.path, resolution]
    )
  );
  const source = useLatestRequest<number, ImageResult>(
    params && mode !== 'render' ? frame : null,
    useCallback((f: number) => String(f), []),
    useCallback((f: number) => api.invoke('render:source', { project: project.path, frame: f, size }), [api, project.path, size])
  );
  const [wipe, setWipe] = useState(0.5);
  const stage = useRef<HTMLDivElement>(null);

  const dragWipe = (e: PointerEvent<HTMLDivElement>) => {
    const el = stage.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    setWipe(Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)));
  };
  const wipeKey = (e: KeyboardEvent) => {
    const d = e.key === 'ArrowLeft' ? -0.05 : e.key === 'ArrowRight' ? 0.05 : 0;
    if (!d) return;
    e.preventDefault();
    e.stopPropagation();
    setWipe((w) => Math.min(1, Math.max(0, w + d)));
  };

  const renderImg = (
    <img
      className="viewer-img"
      src={render.result?.image}
      alt={`Render of frame ${frame + 1} with the edits${untuned ? ', before fine-tuning' : ''}`}
      data-testid="viewer-render"
      data-state={render.busy ? 'rendering' : render.result ? 'ready' : 'empty'}
      hidden={!render.result}
      draggable={false}
    />
  );
  const sourceImg = <img className="viewer-img" src={source.result?.image} alt={`Source crop of frame ${frame + 1}`} data-testid="viewer-source" hidden={!source.result} draggable={false} />;

  return (
    <section className="viewer" aria-label="Viewer">
      <div className="viewer-bar">
        <SegmentedControl label="Viewer mode" hideLabel options={MODES} value={mode} onChange={onMode} data-testid="viewer-mode" />
        {beforeTuning !== null && (
          <SegmentedControl label="Fine-tuning" hideLabel options={TUNING} value={beforeTuning ? 'before' : 'after'} onChange={(v) => onBeforeTuning(v === 'before')} data-testid="viewer-tuning" />
        )}
        {project.tune?.ignored && (
          <span className="viewer-stat is-error" data-testid="viewer-untuned">
            Rendering untuned: the delta {project.tune.file} is damaged or missing
          </span>
        )}
        <span className="viewer-stat" aria-live="polite" data-testid="render-time">
          {render.error ? <span className="is-error">Render failed: {render.error}</span> : render.result ? `Render ${Math.round(render.result.ms)} ms · ${render.result.width}×${render.result.height}` : 'Rendering…'}
          {render.busy && render.result && <span className="viewer-busy" aria-hidden="true" />}
        </span>
      </div>
      <div className={`viewer-stage viewer-${mode}`} ref={stage}>
        {!params ? (
          <p className="viewer-empty">Nothing is encoded yet: encode the project to see and edit it.</p>
        ) : mode === 'side' ? (
          <>
            <figure className="viewer-pane">
              {sourceImg}
              <figcaption>Source</figcaption>
            </figure>
            <figure className="viewer-pane">
              {renderImg}
              <figcaption>{untuned ? 'Edited render, before fine-tuning' : 'Edited render'}</figcaption>
            </figure>
          </>
        ) : (
          <div className="viewer-pane viewer-single">
            <div className="viewer-layer" hidden={mode === 'render'}>
              {sourceImg}
            </div>
            <div className="viewer-layer viewer-top" hidden={mode === 'source'} style={mode === 'wipe' ? { clipPath: `inset(0 0 0 ${wipe * 100}%)` } : undefined}>
              {renderImg}
            </div>
            {mode === 'wipe' && (
              <div
                className="wipe-divider"
                style={{ left: `${wipe * 100}%` }}
                role="slider"
                tabIndex={0}
                aria-label="Wipe position"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.round(wipe * 100)}
                onKeyDown={wipeKey}
                onPointerDown={(e) => {
                  e.currentTarget.setPointerCapture(e.pointerId);
                  dragWipe(e);
                }}
                onPointerMove={(e) => e.currentTarget.hasPointerCapture(e.pointerId) && dragWipe(e)}
              />
            )}
          </div>
        )}
        {source.error && <p className="viewer-error">Source frame unavailable: {source.error}</p>}
      </div>
    </section>
  );
}
