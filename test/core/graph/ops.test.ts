import { describe, expect, it } from 'vitest';
import { opChecks } from '../../../src/core/graph/checks';
import { runCheck } from '../../../src/core/graph/gradcheck';
import { Graph, GraphError } from '../../../src/core/graph/graph';
import { gradients } from '../../../src/core/graph/autodiff';
import { serialize } from '../../../src/core/graph/serialize';
import { Runtime } from '../../../src/core/runtime';
import { Rng } from '../../../src/core/util/random';

const rt = await Runtime.create({ device: 'cpu' });

/** Naive NCHW convolution (cross-correlation, like ONNX Conv) used as an independent reference. */
function naiveConv(x: Float32Array, xs: number[], w: Float32Array, ws: number[], stride: number, pad: [number, number, number, number], group: number, dil = 1) {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, ci, kh, kw] = ws as [number, number, number, number];
  const oh = Math.floor((h + pad[0] + pad[2] - dil * (kh - 1) - 1) / stride) + 1;
  const ow = Math.floor((wd + pad[1] + pad[3] - dil * (kw - 1) - 1) / stride) + 1;
  const out = new Float32Array(n * o * oh * ow);
  const opg = o / group;
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++) {
      const gi = Math.floor(oc / opg);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = 0;
          for (let i = 0; i < ci; i++)
            for (let a = 0; a < kh; a++)
              for (let bb = 0; bb < kw; bb++) {
                const iy = y * stride + a * dil - pad[0];
                const ix = xx * stride + bb * dil - pad[1];
                if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
                s += x[((b * c + gi * ci + i) * h + iy) * wd + ix]! * w[((oc * ci + i) * kh + a) * kw + bb]!;
              }
          out[((b * o + oc) * oh + y) * ow + xx] = s;
        }
    }
  return { out, shape: [n, o, oh, ow] };
}

describe('gradient rules against finite differences', () => {
  for (const c of opChecks()) {
    it(c.name, async () => {
      const r = await runCheck(rt, c, 11, 3);
      expect(Number.isFinite(r.analytic)).toBe(true);
      expect(Math.abs(r.analytic)).toBeGreaterThan(1e-6);
      expect(r.relError).toBeLessThan(1e-2);
    });
  }
});

describe('forward semantics', () => {
  it('Conv matches a naive convolution with stride, asymmetric pads, groups and dilation', async () => {
    const rng = new Rng(3);
    for (const cfg of [
      { xs: [2, 3, 9, 7], ws: [4, 3, 3, 3], stride: 2, pad: [1, 0, 1, 2] as [number, number, number, number], group: 1, dil: 1 },
      { xs: [1, 4, 8, 7], ws: [6, 2, 3, 3], stride: 1, pad: [1, 1, 1, 1] as [number, number, number, number], group: 2, dil: 2 }
    ]) {
      const g = new Graph();
      const x = g.input('x', cfg.xs);
      const w = g.input('w', cfg.ws);
      const y = g.conv(x, w, { strides: [cfg.stride, cfg.stride], pads: cfg.pad, group: cfg.group, dilations: [cfg.dil, cfg.dil] });
      const xd = rng.normals(cfg.xs.reduce((a, b) => a * b));
      const wd = rng.normals(cfg.ws.reduce((a, b) => a * b));
      const ref = naiveConv(xd, cfg.xs, wd, cfg.ws, cfg.stride, cfg.pad, cfg.group, cfg.dil);
      expect(y.shape).toEqual(ref.shape);
      const out = await rt.run(serialize(g, [{ name: 'y', value: y }]), { x: { data: xd, dims: cfg.xs }, w: { data: wd, dims: cfg.ws } });
      let err = 0;
      ref.out.forEach((v, i) => (err = Math.max(err, Math.abs(v - out.y!.data[i]!))));
      expect(err).toBeLessThan(1e-4);
    }
  });

  it('the Conv input gradient equals the explicit adjoint <dy, Conv(x)> = <ConvT(dy), x>', async () => {
    const rng = new Rng(5);
    const g = new Graph();
    const x = g.input('x', [1, 2, 7, 6]);
    const w = g.weight('w', rng.normals(3 * 2 * 9), [3, 2, 3, 3]);
    const y = g.conv(x, w, { strides: [2, 2], pads: [1, 1, 1, 1] });
    const r = g.input('r', y.shape);
    const loss = g.sumAll(g.mul(y, r));
    const [dx] = gradients(g, loss, [x]);
    expect(dx!.shape).toEqual([1, 2, 7, 6]);
    const m = serialize(g, [{ name: 'loss', value: loss }, { name: 'dx', value: dx! }]);
    const xd = rng.normals(84);
    const rd = rng.normals(y.shape.reduce((a, b) => a * b));
    const out = await rt.run(m, { x: { data: xd, dims: x.shape }, r: { data: rd, dims: r.shape } });
    let inner = 0;
    xd.forEach((v, i) => (inner += v * out.dx!.data[i]!));
    expect(inner).toBeCloseTo(out.loss!.data[0]!, 3);
  });

  it('gradients are pruned to the paths that need them', () => {
    const build = () => {
      const g = new Graph();
      const x = g.input('x', [1, 2, 5, 5]);
      const w = g.weight('w', new Float32Array(2 * 2 * 9).fill(0.1), [2, 2, 3, 3]);
      const loss = g.sumAll(g.conv(x, w, { pads: [1, 1, 1, 1] }));
      return { g, x, w, loss, before: g.nodes.length };
    };
    const a = build();
    gradients(a.g, a.loss, [a.x]);
    const onlyX = a.g.nodes.slice(a.before).map((n) => n.op);
    expect(onlyX.filter((op) => op === 'Conv' || op === 'ConvTranspose')).toHaveLength(1);
    expect(onlyX).not.toContain('Transpose'); // the weight gradient (transposed Conv) is not built
    const b = build();
    gradients(b.g, b.loss, [b.x, b.w]);
    const both = b.g.nodes.slice(b.before).map((n) => n.op);
    expect(both).toContain('Transpose');
    expect(both.filter((op) => op === 'Conv' || op === 'ConvTranspose')).toHaveLength(2);
  });

  it('a weight folded into constants cannot be exposed as an input', () => {
    const g = new Graph();
    const x = g.input('x', [1, 1, 4, 4]);
    const w = g.weight('w', new Float32Array(9).fill(1), [1, 1, 3, 3]);
    const loss = g.sumAll(g.conv(x, w, { pads: [1, 1, 1, 1] }));
    const [dx] = gradients(g, loss, [x]);
    expect(() => serialize(g, [{ name: 'dx', value: dx! }], { initializersAsInputs: ['w'] })).toThrow(/folded/);
  });

  it('rejects shapes that do not fit, naming them', () => {
    const g = new Graph();
    const a = g.input('a', [2, 3]);
    const b = g.input('b', [4, 5]);
    expect(() => g.matmul(a, b)).toThrow(GraphError);
    expect(() => g.add(a, b)).toThrow(/\[2, 3\] and \[4, 5\]/);
    expect(() => g.reshape(a, [4, 2])).toThrow(/cannot view/);
    expect(() => g.input('a', [1])).toThrow(/duplicate/);
    const loss = g.sumAll(a);
    expect(() => gradients(g, g.reshape(a, [6]), [a])).toThrow(/scalar/);
    expect(gradients(g, loss, [b])[0]!.shape).toEqual([4, 5]); // no path: zeros of the input's shape
  });

  it('Resize is forward-only and says so when a gradient is asked through it', () => {
    const g = new Graph();
    const x = g.input('x', [1, 1, 4, 4]);
    const loss = g.sumAll(g.resizeBilinear(x, 2, 2));
    expect(() => gradients(g, loss, [x])).toThrow(/forward-only/);
  });

  it('DepthToSpace puts channel (i*b + j)*C + c at pixel (i, j) of each block, and is forward-only', async () => {
    const [n, c, h, w, b] = [2, 3, 2, 3, 2];
    const g = new Graph();
    const x = g.input('x', [n, b * b * c, h, w]);
    const y = g.depthToSpace(x, b);
    expect(y.shape).toEqual([n, c, b * h, b * w]);
    const xd = Float32Array.from({ length: n * b * b * c * h * w }, (_, k) => k);
    const out = (await rt.run(serialize(g, [{ name: 'y', value: y }]), { x: { data: xd, dims: [n, b * b * c, h, w] } })).y!.data;
    let checked = 0;
    for (let s = 0; s < n; s++) for (let ch = 0; ch < c; ch++) for (let r = 0; r < b * h; r++) for (let q = 0; q < b * w; q++) {
      const [i, j] = [r % b, q % b];
      const src = ((s * b * b * c + (i * b + j) * c + ch) * h + Math.floor(r / b)) * w + Math.floor(q / b);
      expect(out[((s * c + ch) * b * h + r) * b * w + q]).toBe(xd[src]);
      checked++;
    }
    expect(checked).toBe(xd.length);
    expect(() => g.depthToSpace(g.input('odd', [1, 6, 2, 2]), 2)).toThrow(/multiple of 4/);
    expect(() => g.depthToSpace(g.input('flat', [4, 4]), 2)).toThrow(/expects NCHW/);
    expect(() => g.depthToSpace(g.input('b0', [1, 4, 2, 2]), 0)).toThrow(/positive integer/);
    expect(() => gradients(g, g.sumAll(y), [x])).toThrow(/forward-only/);
  });
});
