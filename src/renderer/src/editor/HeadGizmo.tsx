// The head-pose gizmo: a stylised head built from three.js primitives, turned
// to the edited yaw, pitch and roll at the playhead, inside three axis rings.
// Dragging a ring turns about that axis only; dragging elsewhere turns yaw
// (horizontally) and pitch (vertically). Arrow keys nudge (Shift: roll).
import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import * as THREE from 'three';

export type PoseAxis = 'yaw' | 'pitch' | 'roll';
export interface PoseDelta {
  yaw: number;
  pitch: number;
  roll: number;
}

const DEG = Math.PI / 180;
/** Pose units per pixel of drag. */
export const DRAG_GAIN = 0.25;

const RING_COLORS: Record<PoseAxis, number> = { yaw: 0x4cc38a, pitch: 0xff6e6e, roll: 0x4d8dff };

interface Scene {
  scene: THREE.Scene;
  camera: THREE.PerspectiveCamera;
  head: THREE.Group;
  rings: Record<PoseAxis, THREE.Mesh>;
  pickers: THREE.Mesh[];
  renderer: THREE.WebGLRenderer | null;
}

function buildScene(): Omit<Scene, 'renderer'> {
  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(32, 1, 0.1, 50);
  // A three-quarter view from above, so each ring shows as an ellipse and none is seen edge-on.
  camera.position.set(1.8, 1.6, 5.4);
  camera.lookAt(0, 0, 0);
  scene.add(new THREE.HemisphereLight(0xdfe8ff, 0x1a1c20, 1.2));
  const key = new THREE.DirectionalLight(0xffffff, 1.6);
  key.position.set(2.5, 3, 4);
  scene.add(key);

  const skin = new THREE.MeshStandardMaterial({ color: 0xc6ccd6, roughness: 0.55, metalness: 0.05 });
  const dark = new THREE.MeshStandardMaterial({ color: 0x22252b, roughness: 0.4 });
  const accent = new THREE.MeshStandardMaterial({ color: 0x9aa3b2, roughness: 0.5 });
  const head = new THREE.Group();
  const skull = new THREE.Mesh(new THREE.SphereGeometry(1, 48, 32), skin);
  skull.scale.set(0.82, 1.04, 0.92);
  head.add(skull);
  const jaw = new THREE.Mesh(new THREE.SphereGeometry(0.62, 32, 24), skin);
  jaw.scale.set(1, 0.75, 1.05);
  jaw.position.set(0, -0.52, 0.18);
  head.add(jaw);
  const nose = new THREE.Mesh(new THREE.ConeGeometry(0.11, 0.34, 24), accent);
  nose.rotation.x = Math.PI / 2;
  nose.position.set(0, -0.08, 0.97);
  head.add(nose);
  for (const side of [-1, 1]) {
    const eye = new THREE.Mesh(new THREE.SphereGeometry(0.085, 20, 14), dark);
    eye.position.set(side * 0.3, 0.16, 0.79);
    head.add(eye);
    const brow = new THREE.Mesh(new THREE.BoxGeometry(0.26, 0.045, 0.06), dark);
    brow.position.set(side * 0.3, 0.33, 0.8);
    brow.rotation.z = side * -0.12;
    head.add(brow);
    const ear = new THREE.Mesh(new THREE.SphereGeometry(0.17, 20, 14), skin);
    ear.scale.set(0.45, 1, 0.7);
    ear.position.set(side * 0.82, 0.02, 0);
    head.add(ear);
  }
  const mouth = new THREE.Mesh(new THREE.TorusGeometry(0.17, 0.028, 10, 32, Math.PI), dark);
  mouth.rotation.z = Math.PI;
  mouth.position.set(0, -0.44, 0.84);
  head.add(mouth);
  const neck = new THREE.Mesh(new THREE.CylinderGeometry(0.34, 0.4, 0.7, 28), skin);
  neck.position.set(0, -1.1, -0.1);
  head.add(neck);
  scene.add(head);

  const ringGeo = new THREE.TorusGeometry(1.55, 0.022, 12, 128);
  const pickGeo = new THREE.TorusGeometry(1.55, 0.13, 8, 96);
  const rings = {} as Record<PoseAxis, THREE.Mesh>;
  const pickers: THREE.Mesh[] = [];
  const orient: Record<PoseAxis, (o: THREE.Object3D) => void> = {
    yaw: (o) => (o.rotation.x = Math.PI / 2),
    pitch: (o) => (o.rotation.y = Math.PI / 2),
    roll: () => undefined
  };
  for (const axis of ['yaw', 'pitch', 'roll'] as PoseAxis[]) {
    const ring = new THREE.Mesh(ringGeo, new THREE.MeshBasicMaterial({ color: RING_COLORS[axis], transparent: true, opacity: 0.75 }));
    orient[axis](ring);
    scene.add(ring);
    rings[axis] = ring;
    const picker = new THREE.Mesh(pickGeo, new THREE.MeshBasicMaterial({ visible: false }));
    orient[axis](picker);
    picker.userData.axis = axis;
    scene.add(picker);
    pickers.push(picker);
  }
  return { scene, camera, head, rings, pickers };
}

export function HeadGizmo({
  pose,
  unit,
  disabled,
  onBegin,
  onDrag,
  onEnd,
  onCancel,
  onNudge
}: {
  /** Edited yaw, pitch, roll at the playhead. */
  pose: PoseDelta;
  unit: string;
  disabled: string | null;
  onBegin(axis: PoseAxis | 'free'): void;
  /** The total change since the drag began. */
  onDrag(total: PoseDelta): void;
  onEnd(): void;
  onCancel(): void;
  onNudge(axis: PoseAxis, by: number): void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const three = useRef<Scene | null>(null);
  const [glError, setGlError] = useState<string | null>(null);
  const [hover, setHover] = useState<PoseAxis | null>(null);
  const drag = useRef<{ axis: PoseAxis | 'free'; x: number; y: number; angle: number; pointer: number } | null>(null);
  const [size, setSize] = useState(220);

  useEffect(() => {
    const built = buildScene();
    let renderer: THREE.WebGLRenderer | null = null;
    try {
      renderer = new THREE.WebGLRenderer({ canvas: canvas.current!, antialias: true, alpha: true });
      renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    } catch (e) {
      // Dragging still works (picking is plain geometry); only the drawing is missing.
      setGlError(`3D view unavailable (${(e as Error).message}); drag or use the arrow keys to turn the head.`);
    }
    three.current = { ...built, renderer };
    const parent = canvas.current!.parentElement!;
    const ro = new ResizeObserver(([entry]) => setSize(Math.max(120, Math.floor(Math.min(entry!.contentRect.width, 260)))));
    ro.observe(parent);
    return () => {
      ro.disconnect();
      renderer?.dispose();
      built.scene.traverse((o) => {
        if (o instanceof THREE.Mesh) {
          o.geometry.dispose();
          (o.material as THREE.Material).dispose();
        }
      });
      three.current = null;
    };
  }, []);

  useEffect(() => {
    const t = three.current;
    if (!t) return;
    t.head.rotation.set(pose.pitch * DEG, pose.yaw * DEG, -pose.roll * DEG, 'YXZ');
    for (const axis of ['yaw', 'pitch', 'roll'] as PoseAxis[]) {
      const m = t.rings[axis].material as THREE.MeshBasicMaterial;
      m.opacity = disabled ? 0.25 : hover === axis || drag.current?.axis === axis ? 1 : 0.6;
    }
    t.camera.aspect = 1;
    t.camera.updateProjectionMatrix();
    if (t.renderer) {
      t.renderer.setSize(size, size, false);
      t.renderer.render(t.scene, t.camera);
    }
  }, [pose.yaw, pose.pitch, pose.roll, hover, size, disabled]);

  const pick = (e: PointerEvent<HTMLCanvasElement>): PoseAxis | null => {
    const t = three.current;
    if (!t) return null;
    const r = e.currentTarget.getBoundingClientRect();
    const ndc = new THREE.Vector2(((e.clientX - r.left) / r.width) * 2 - 1, -((e.clientY - r.top) / r.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndc, t.camera);
    const hit = ray.intersectObjects(t.pickers, false)[0];
    return hit ? (hit.object.userData.axis as PoseAxis) : null;
  };

  const angleAt = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return Math.atan2(e.clientY - (r.top + r.height / 2), e.clientX - (r.left + r.width / 2));
  };

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (disabled || e.button !== 0) return;
    e.currentTarget.focus();
    e.currentTarget.setPointerCapture(e.pointerId);
    const axis = pick(e) ?? 'free';
    drag.current = { axis, x: e.clientX, y: e.clientY, angle: angleAt(e), pointer: e.pointerId };
    onBegin(axis);
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (!d) {
      if (!disabled) setHover(pick(e));
      return;
    }
    const dx = (e.clientX - d.x) * DRAG_GAIN;
    const dy = (e.clientY - d.y) * DRAG_GAIN;
    let dAngle = (angleAt(e) - d.angle) / DEG;
    dAngle = ((dAngle + 540) % 360) - 180;
    const total: PoseDelta =
      d.axis === 'yaw' ? { yaw: dx, pitch: 0, roll: 0 } : d.axis === 'pitch' ? { yaw: 0, pitch: dy, roll: 0 } : d.axis === 'roll' ? { yaw: 0, pitch: 0, roll: dAngle } : { yaw: dx, pitch: dy, roll: 0 };
    onDrag(total);
  };

  const end = (e: PointerEvent<HTMLCanvasElement>, cancelled: boolean) => {
    if (!drag.current || drag.current.pointer !== e.pointerId) return;
    drag.current = null;
    if (cancelled) onCancel();
    else onEnd();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    if (disabled) return;
    if (e.key === 'Escape' && drag.current) {
      drag.current = null;
      onCancel();
      return;
    }
    const step = e.altKey ? 0.25 : 1;
    const map: Record<string, [PoseAxis, number] | undefined> = {
      ArrowLeft: e.shiftKey ? ['roll', -step] : ['yaw', -step],
      ArrowRight: e.shiftKey ? ['roll', step] : ['yaw', step],
      ArrowUp: e.shiftKey ? undefined : ['pitch', -step],
      ArrowDown: e.shiftKey ? undefined : ['pitch', step]
    };
    const hit = map[e.key];
    if (!hit) return;
    e.preventDefault();
    e.stopPropagation();
    onNudge(hit[0], hit[1]);
  };

  return (
    <div className={`gizmo${disabled ? ' is-disabled' : ''}`}>
      <canvas
        ref={canvas}
        className="gizmo-canvas"
        style={{ width: size, height: size }}
        data-testid="head-gizmo"
        tabIndex={disabled ? -1 : 0}
        role="application"
        aria-label={`Head pose gizmo: yaw ${pose.yaw.toFixed(1)}, pitch ${pose.pitch.toFixed(1)}, roll ${pose.roll.toFixed(1)} ${unit}. Drag a ring to turn about its axis, or arrow keys (Shift for roll).`}
        aria-disabled={disabled ? true : undefined}
        data-yaw={pose.yaw.toFixed(3)}
        data-pitch={pose.pitch.toFixed(3)}
        data-roll={pose.roll.toFixed(3)}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={(e) => end(e, false)}
        onPointerCancel={(e) => end(e, true)}
        onPointerLeave={() => setHover(null)}
        onKeyDown={onKeyDown}
      />
      <div className="gizmo-legend" aria-hidden="true">
        <span className="ring-yaw">Yaw {pose.yaw.toFixed(1)}</span>
        <span className="ring-pitch">Pitch {pose.pitch.toFixed(1)}</span>
        <span className="ring-roll">Roll {pose.roll.toFixed(1)}</span>
      </div>
      {disabled && <p className="gizmo-note">{disabled}</p>}
      {glError && <p className="gizmo-note">{glError}</p>}
    </div>
  );
}
