// The gradient checker must not be able to pass a wrong or non-finite gradient, and the
// gradient rules check the attributes they assume.
import { describe, expect, it } from 'vitest';
import { gradientRefusal, gradients } from '../../../src/core/graph/autodiff';
import { opChecks } from '../../../src/core/graph/checks';
import { TOLERANCE, UNTILTED_TOLERANCE, checkPassed, runCheck, type CheckCase } from '../../../src/core/graph/gradcheck';
import { Graph, GraphError } from '../../../src/core/graph/graph';
import { Layers } from '../../../src/core/face/nets/layers';
import { Runtime } from '../../../src/core/runtime';

const rt = await Runtime.create({ device: 'cpu' });

describe('gradcheck fails what is not finite', () => {
  it('a graph whose gradient is NaN: sqrt(x * x) at x = 0 has output 0 and gradient inf * 0', async () => {
    const c: CheckCase = {
      name: 'sqrt(x^2) at 0',
      build(g) {
        const data = Float32Array.from([0, 0.5, -1, 2]);
        const x = g.input('x', [4]);
        return { wrt: [{ value: x, data }], out: g.sqrt(g.mul(x, x)) };
      }
    };
    const r = await runCheck(rt, c);
    expect(r.relError).toBe(Infinity);
    expect(r.nonFinite).toBe('gradient of x element 0 is NaN');
    expect(checkPassed(r)).toBe(false);
  });

  it('a NaN loss: log of a negative input', async () => {
    const r = await runCheck(rt, {
      name: 'log(-1)',
      build(g) {
        const x = g.input('x', [3]);
        return { wrt: [{ value: x, data: Float32Array.from([1, -1, 2]) }], out: g.log(x) };
      }
    });
    expect(r.relError).toBe(Infinity);
    expect(r.nonFinite).toBe('output element 1 (so the loss) is NaN');
  });

  it('a NaN difference: sqrt(x) next to 0, where the step crosses into negative x', async () => {
    const r = await runCheck(rt, {
      name: 'sqrt near 0',
      step: 1e-2,
      build(g) {
        const x = g.input('x', [3]);
        return { wrt: [{ value: x, data: Float32Array.from([1e-6, 1, 2]) }], out: g.sqrt(x) };
      }
    });
    expect(Number.isFinite(r.analytic)).toBe(true);
    expect(r.relError).toBe(Infinity);
    expect(r.nonFinite).toMatch(/^the finite difference along a tilted direction is NaN$/);
  });
});

describe('untilted directions', () => {
  // Pow's rule returns no gradient for its exponent (the builder only makes constant
  // exponents). Differentiating the exponent as well gives a returned gradient that lacks
  // one input's whole contribution: an error orthogonal to the returned gradient, which
  // the tilt does not amplify.
  const dropsExponent = (untilted: number): CheckCase => ({
    name: 'x^p with the exponent differentiated',
    untilted,
    build(g, rng) {
      const n = 65536;
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = 1.5 + rng.uniform();
      const x = g.input('x', [n]);
      const y = g.pow(x, 3);
      const p = g.producerOf(y).inputs[1]!;
      return { wrt: [{ value: x, data }, { value: p, data: Float32Array.from([3]) }], out: y };
    }
  });

  it('tilted directions alone pass the missing exponent gradient; untilted ones fail it', async () => {
    const tilted = await runCheck(rt, dropsExponent(0), 3);
    expect(tilted.relError).toBeLessThan(TOLERANCE);
    expect(checkPassed(tilted)).toBe(true);
    const both = await runCheck(rt, dropsExponent(2), 3);
    expect(both.relError).toBeLessThan(TOLERANCE);
    expect(both.untilted!.relError).toBeGreaterThan(2 * UNTILTED_TOLERANCE);
    expect(checkPassed(both)).toBe(false);
  });
});

describe('the stride-1 constant-weight Conv fast path', () => {
  it('is what the isolated checks exercise, and they pass', async () => {
    const cases = opChecks().filter((c) => c.name.startsWith('Conv fast path'));
    expect(cases).toHaveLength(2);
    for (const c of cases) {
      const g = new Graph();
      const { wrt, out } = c.build(g, new (await import('../../../src/core/util/random')).Rng(1));
      gradients(g, g.sumAll(out), wrt.map((w) => w.value));
      expect(g.initializers.some((i) => i.name.includes('.adjoint_')), c.name).toBe(true);
      expect(g.nodes.some((n) => n.op === 'ConvTranspose'), c.name).toBe(false);
      const r = await runCheck(rt, c, 7, 3);
      expect(r.relError, c.name).toBeLessThan(1e-3);
      expect(Math.abs(r.analytic)).toBeGreaterThan(1e-3);
    }
  });
});

describe('typed attributes: a rule refuses a node it does not cover', () => {
  it("face/nets' 3x3 stride-2 padded MaxPool has no gradient; the builder's 2x2 one has", () => {
    const g = new Graph();
    const x = g.input('x', [1, 2, 9, 9]);
    const L = new Layers(g, new Map(), 'test');
    const y = L.maxPool(x, 3, 2, 'same');
    const node = g.producerOf(y);
    expect(node.op).toBe('MaxPool');
    expect(node.attrs).toEqual({ kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    expect(gradientRefusal(node)).toMatch(/MaxPool with attributes .*2x2 windows with stride 2 and no padding only/);
    expect(() => gradients(g, g.sumAll(y), [x])).toThrow(GraphError);
    const g2 = new Graph();
    const x2 = g2.input('x', [1, 2, 8, 8]);
    expect(gradientRefusal(g2.producerOf(g2.maxPool2(x2)))).toBeNull();
  });
});
