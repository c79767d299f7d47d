// Number and time formatting shared by the screens.

/** "12 s left", "4 min left", "1.5 h left"; '' when unknown. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s left`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min left`;
  return `${(seconds / 3600).toFixed(1)} h left`;
}

/** A duration as m:ss.t below an hour and h:mm:ss above: "0:04.2", "12:30.0", "1:02:03". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds >= 3600) {
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }
  const tenths = Math.round(seconds * 10);
  const m = Math.floor(tenths / 600);
  const rest = (tenths % 600) / 10;
  return `${m}:${rest.toFixed(1).padStart(4, '0')}`;
}

/** Seconds with up to two decimals and no trailing zeros: "3", "2.5", "0.04". */
export function formatSeconds(seconds: number): string {
  return String(Math.round(seconds * 100) / 100);
}

/** "1.2 MB", "640 KB", "12 B" (decimal units, as file managers show). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** Frame rate as people write it: "30 fps", "29.97 fps". */
export function formatFps(fps: number): string {
  return `${Math.round(fps * 100) / 100} fps`;
}

/** "1 frame", "24 frames". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Loss values span orders of magnitude; show three significant digits. */
export function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return '–';
  if (loss === 0) return '0';
  const abs = Math.abs(loss);
  if (abs >= 1000 || abs < 0.001) return loss.toExponential(2);
  return loss.toPrecision(3);
}
