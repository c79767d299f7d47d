// Side panels of the editor: the key inspector, range edits, and region lock
// with group strengths.
import { useEffect, useId, useRef, useState } from 'react';
import type { ParamGroup } from '../../../shared/contract';
import {
  EASES,
  LIMITS,
  PARAM_COUNT,
  PRESETS,
  addRangeEdit,
  createIdSource,
  findKey,
  presetAvailability,
  presetOffsets,
  removeRangeEdit,
  setAutoHandles,
  setInterp,
  setLock,
  setStrength,
  updateKey,
  type Ease,
  type Interp,
  type RegionLock,
  type TimelineDoc
} from '../../../core/timeline';
import { Button, SegmentedControl, Slider } from '../ui';
import type { DocControls } from './hooks';
import type { FrameRange } from './Timeline';
import { GROUP_LABELS, GROUP_ORDER, formatValue, type TrackInfo } from './tracks';

const INTERP_OPTIONS = [
  { value: 'bezier', label: 'Bezier', hint: 'Smooth curve with handles' },
  { value: 'linear', label: 'Linear', hint: 'Straight line to the next key' },
  { value: 'hold', label: 'Hold', hint: 'Keep the value until the next key' }
] as const;

/** A number input that commits on Enter or blur and restores on Escape. */
export function NumberInput({ label, value, onCommit, step = 0.1, min, max, decimals = 3, disabled, testId, suffix }: { label: string; value: number; onCommit(v: number): void; step?: number; min?: number; max?: number; decimals?: number; disabled?: boolean; testId?: string; suffix?: string }) {
  const id = useId();
  const [text, setText] = useState(String(Number(value.toFixed(decimals))));
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (!editing) setText(String(Number(value.toFixed(decimals))));
  }, [value, decimals, editing]);
  const commit = () => {
    setEditing(false);
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) return setText(String(Number(value.toFixed(decimals))));
    const v = Math.min(max ?? Infinity, Math.max(min ?? -Infinity, n));
    if (v !== value) onCommit(v);
    else setText(String(Number(value.toFixed(decimals))));
  };
  return (
    <div className="num-field">
      <label htmlFor={id}>{label}</label>
      <div className="num-row">
        <input
          id={id}
          type="number"
          step={step}
          min={min}
          max={max}
          value={text}
          disabled={disabled}
          data-testid={testId}
          onFocus={() => setEditing(true)}
          onChange={(e) => setText(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            e.stopPropagation();
            if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
            if (e.key === 'Escape') {
              setText(String(Number(value.toFixed(decimals))));
              setEditing(false);
              (e.target as HTMLInputElement).blur();
            }
          }}
        />
        {suffix && <span className="num-suffix">{suffix}</span>}
      </div>
    </div>
  );
}

export function KeyInspector({ doc, tracks, selected, frames, fps, editable, controls }: { doc: TimelineDoc; tracks: readonly TrackInfo[]; selected: ReadonlySet<string>; frames: number; fps: number; editable: readonly boolean[]; controls: DocControls }) {
  const ids = [...selected];
  const found = ids.map((id) => findKey(doc, id)).filter((f) => f !== null);
  if (found.length === 0) {
    return (
      <section className="panel-section" aria-label="Key">
        <h3>Key</h3>
        <p className="panel-hint">Select a track and press K to add a key at the playhead, or click a key in the timeline.</p>
      </section>
    );
  }
  const interps = new Set(found.map((f) => f.key.interp));
  const interp = interps.size === 1 ? [...interps][0]! : null;
  const locked = found.some((f) => !editable[f.track]);
  if (found.length === 1) {
    const { key, track } = found[0]!;
    const info = tracks[track]!;
    return (
      <section className="panel-section" aria-label="Key">
        <h3>
          Key on <span className="accent-text">{info.name}</span>
        </h3>
        <div className="num-grid">
          <NumberInput label="Frame" value={key.frame} step={1} min={0} max={frames - 1} decimals={0} disabled={locked} testId="key-frame" suffix={`${(key.frame / fps).toFixed(2)} s`} onCommit={(v) => controls.apply('Move key', (d) => updateKey(d, key.id, { frame: Math.round(v) }))} />
          <NumberInput label={`Offset (${info.unit})`} value={key.value} step={info.group === 'pose' ? 1 : 0.1} min={-LIMITS.value} max={LIMITS.value} disabled={locked} testId="key-value" onCommit={(v) => controls.apply('Set key value', (d) => updateKey(d, key.id, { value: v }))} />
        </div>
        <SegmentedControl<Interp> label="Interpolation" options={INTERP_OPTIONS} value={key.interp} disabled={locked} onChange={(v) => controls.apply('Set interpolation', (d) => setInterp(d, [key.id], v))} data-testid="key-interp" />
        <label className="check">
          <input type="checkbox" checked={key.auto} disabled={locked || key.auto} onChange={() => controls.apply('Auto handles', (d) => setAutoHandles(d, [key.id]))} />
          Auto handles {key.auto ? '(drag a handle in the graph editor to shape it)' : '(click to reset)'}
        </label>
      </section>
    );
  }
  return (
    <section className="panel-section" aria-label="Keys">
      <h3>{found.length} keys selected</h3>
      <SegmentedControl<Interp> label="Interpolation" options={INTERP_OPTIONS} value={interp ?? ('' as Interp)} disabled={locked} onChange={(v) => controls.apply('Set interpolation', (d) => setInterp(d, ids, v))} data-testid="key-interp" />
      <p className="panel-hint">Arrow keys in the timeline nudge them (Shift: ×10); Delete removes them.</p>
    </section>
  );
}

const EASE_LABELS: Record<Ease, string> = { linear: 'Linear', smooth: 'Ease in-out', cubic: 'Cubic' };

export function RangePanel({ doc, tracks, fps, frames, range, onRange, selectedTracks, editable, controls }: { doc: TimelineDoc; tracks: readonly TrackInfo[]; fps: number; frames: number; range: FrameRange | null; onRange(r: FrameRange | null): void; selectedTracks: readonly number[]; editable: readonly boolean[]; controls: DocControls }) {
  const [kind, setKind] = useState<'preset' | 'offset'>('preset');
  const [presetId, setPresetId] = useState(PRESETS[0]!.id);
  const [amount, setAmount] = useState(1);
  const [offset, setOffset] = useState(1);
  const [blendIn, setBlendIn] = useState(0.5);
  const [blendOut, setBlendOut] = useState(0.5);
  const [easeIn, setEaseIn] = useState<Ease>('smooth');
  const [easeOut, setEaseOut] = useState<Ease>('smooth');
  const names = tracks.map((t) => t.name);
  const preset = PRESETS.find((p) => p.id === presetId)!;
  const availability = presetAvailability(preset, names);
  const r = range ?? { start: 0, end: frames - 1 };
  const len = r.end - r.start;
  const toFrames = (s: number) => Math.max(0, Math.min(len, Math.round(s * fps)));
  const offsetTracks = selectedTracks.filter((t) => editable[t]);

  const offsets = kind === 'preset' ? presetOffsets(preset, names, amount).map((o, i) => (editable[i] ? o : 0)) : Array.from({ length: PARAM_COUNT }, (_, i) => (offsetTracks.includes(i) ? offset : 0));
  const touched = offsets.filter((o) => o !== 0).length;
  let reason: string | null = null;
  if (!range) reason = 'Select a range first: Shift+drag in the ruler, press I and O at the playhead, or type the seconds above.';
  else if (kind === 'preset' && !availability.available) reason = availability.reason;
  else if (kind === 'offset' && offsetTracks.length === 0) reason = 'Select the tracks to offset in the track list (locked tracks are left out).';
  else if (touched === 0) reason = 'The region lock leaves none of these tracks editable.';

  const apply = () =>
    controls.apply(`Apply ${kind === 'preset' ? preset.label : 'offset'} to a range`, (d) =>
      addRangeEdit(
        d,
        {
          label: kind === 'preset' ? `${preset.label}${amount !== 1 ? ` ×${amount}` : ''}` : `Offset ${offset > 0 ? '+' : ''}${offset} on ${offsetTracks.length === 1 ? tracks[offsetTracks[0]!]!.name : `${offsetTracks.length} tracks`}`,
          start: r.start,
          end: r.end,
          blendIn: toFrames(blendIn),
          blendOut: toFrames(blendOut),
          easeIn,
          easeOut,
          offsets,
          preset: kind === 'preset' ? preset.id : null,
          amount: kind === 'preset' ? amount : offset
        },
        createIdSource(d, 'r')()
      )
    );

  const secs = (f: number) => Number((f / fps).toFixed(3));
  return (
    <section className="panel-section" aria-label="Range edit">
      <h3>Range edit</h3>
      <div className="num-grid">
        <NumberInput label="Start" suffix="s" value={range ? secs(range.start) : 0} step={0.1} min={0} max={secs(frames - 1)} testId="range-start" onCommit={(v) => onRange({ start: Math.min(Math.round(v * fps), r.end), end: range ? r.end : frames - 1 })} />
        <NumberInput label="End" suffix="s" value={range ? secs(range.end) : secs(frames - 1)} step={0.1} min={0} max={secs(frames - 1)} testId="range-end" onCommit={(v) => onRange({ start: range ? r.start : 0, end: Math.max(Math.min(frames - 1, Math.round(v * fps)), r.start) })} />
      </div>
      <p className="panel-hint">{range ? `Frames ${range.start}–${range.end} (${((range.end - range.start + 1) / fps).toFixed(2)} s)` : 'No range selected.'}</p>
      <SegmentedControl<'preset' | 'offset'> label="Apply" hideLabel options={[{ value: 'preset', label: 'Expression preset' }, { value: 'offset', label: 'Offset selected tracks' }]} value={kind} onChange={setKind} data-testid="range-kind" />
      {kind === 'preset' ? (
        <div className="num-grid">
          <div className="num-field">
            <label htmlFor="preset-select">Preset</label>
            <select id="preset-select" value={presetId} onChange={(e) => setPresetId(e.target.value)} data-testid="range-preset">
              {PRESETS.map((p) => {
                const a = presetAvailability(p, names);
                return (
                  <option key={p.id} value={p.id} disabled={!a.available}>
                    {p.label}
                    {a.available ? '' : ' (not in this model)'}
                  </option>
                );
              })}
            </select>
          </div>
          <NumberInput label="Amount" suffix="×" value={amount} step={0.1} min={-3} max={3} testId="range-amount" onCommit={setAmount} />
        </div>
      ) : (
        <NumberInput label="Offset" suffix={offsetTracks.length ? tracks[offsetTracks[0]!]!.unit : ''} value={offset} step={0.1} min={-LIMITS.value} max={LIMITS.value} testId="range-offset" onCommit={setOffset} />
      )}
      {kind === 'preset' && availability.missing.length > 0 && availability.available && <p className="panel-hint">Without {availability.missing.join(', ')} (this model has no such tracks).</p>}
      <div className="num-grid">
        <NumberInput label="Blend in" suffix="s" value={blendIn} step={0.1} min={0} max={len / fps} testId="range-blend-in" onCommit={setBlendIn} />
        <NumberInput label="Blend out" suffix="s" value={blendOut} step={0.1} min={0} max={len / fps} testId="range-blend-out" onCommit={setBlendOut} />
        <EaseSelect label="Ease in" value={easeIn} onChange={setEaseIn} />
        <EaseSelect label="Ease out" value={easeOut} onChange={setEaseOut} />
      </div>
      <Button variant="primary" size="small" disabled={reason !== null} title={reason ?? undefined} onClick={apply} data-testid="range-apply">
        Apply to range
      </Button>
      {reason && range && <p className="panel-hint">{reason}</p>}
      {doc.ranges.length > 0 && (
        <ul className="range-list" aria-label="Range edits">
          {doc.ranges.map((re) => (
            <li key={re.id}>
              <button type="button" className="range-item" onClick={() => onRange({ start: re.start, end: re.end })} title="Select this range">
                <span>{re.label}</span>
                <span className="range-time">
                  {secs(re.start)}–{secs(re.end)} s
                </span>
              </button>
              <button type="button" className="icon-button icon-button-small" aria-label={`Remove ${re.label}`} onClick={() => controls.apply(`Remove ${re.label}`, (d) => removeRangeEdit(d, re.id))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function EaseSelect({ label, value, onChange }: { label: string; value: Ease; onChange(e: Ease): void }) {
  const id = useId();
  return (
    <div className="num-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as Ease)}>
        {EASES.map((e) => (
          <option key={e} value={e}>
            {EASE_LABELS[e]}
          </option>
        ))}
      </select>
    </div>
  );
}

const LOCK_OPTIONS = [
  { value: 'none', label: 'All', hint: 'Edits act on every track' },
  { value: 'pose', label: 'Pose', hint: 'Only yaw, pitch and roll are edited' },
  { value: 'expression', label: 'Expression', hint: 'Only the 32 expression tracks are edited' },
  { value: 'mouth', label: 'Mouth', hint: 'Only mouth and lips' },
  { value: 'eyes', label: 'Eyes', hint: 'Only eyes and brows' }
] as const;

export function RegionPanel({ doc, tracks, controls }: { doc: TimelineDoc; tracks: readonly TrackInfo[]; controls: DocControls }) {
  const dragging = useStrengthGesture(controls);
  return (
    <section className="panel-section" aria-label="Region lock and strengths">
      <h3>Region lock</h3>
      <SegmentedControl
        label="Region lock"
        hideLabel
        options={LOCK_OPTIONS}
        value={doc.lock ?? 'none'}
        onChange={(v) => controls.apply('Region lock', (d) => setLock(d, v === 'none' ? null : (v as RegionLock)))}
        data-testid="region-lock"
      />
      <p className="panel-hint">Tracks outside the lock show their encoded values and cannot be edited.</p>
      <h3>Strength</h3>
      {GROUP_ORDER.filter((g) => tracks.some((t) => t.group === g)).map((g) => (
        <Slider
          key={g}
          label={GROUP_LABELS[g]}
          value={doc.strength[g]}
          min={0}
          max={LIMITS.strength}
          step={0.05}
          unit="×"
          onChange={(v) => dragging.change(g, v)}
          onCommit={() => dragging.end()}
          data-testid={`strength-${g}`}
        />
      ))}
      <p className="panel-hint">Scales each group's motion around the identity frame.</p>
    </section>
  );
}

/** One undo step per slider drag (or typed value). */
function useStrengthGesture(controls: DocControls) {
  const open = useRef(false);
  return {
    change(g: ParamGroup, v: number) {
      if (!open.current) {
        controls.begin(`${GROUP_LABELS[g]} strength`);
        open.current = true;
      }
      controls.update((base) => setStrength(base, g, v));
    },
    end() {
      if (open.current) controls.commit();
      open.current = false;
    }
  };
}

export function PosePanel({ tracks, pose, offsets, editable, onSet }: { tracks: readonly TrackInfo[]; pose: readonly number[]; offsets: readonly number[]; editable: boolean; onSet(track: number, value: number): void }) {
  return (
    <div className="num-grid num-grid-3">
      {[0, 1, 2].map((i) => (
        <NumberInput key={i} label={`${tracks[i]!.name} (${tracks[i]!.unit})`} value={pose[i]!} step={1} decimals={2} disabled={!editable} testId={`pose-${tracks[i]!.name}`} onCommit={(v) => onSet(i, v)} />
      ))}
      <p className="panel-hint num-grid-wide">Keyed offsets here: {offsets.map((o, i) => `${tracks[i]!.name} ${formatValue(o, tracks[i]!.unit)}`).join(' · ')}</p>
    </div>
  );
}
