// Finite-difference checks of the whole LPIPS-VGG gradient (part of "stylecast gradcheck").
import type { CheckCase } from '../graph/gradcheck';
import { Rng } from '../util/random';
import { LpipsVgg, lpipsLoss } from './lpips';
import { seededLpipsWeights } from './seeded';

/** `count` smooth seeded test images [3, side, side] in -1..1: a few random waves and fine noise. */
export function smoothImages(count: number, side: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(count * 3 * side * side);
  for (let p = 0; p < count * 3; p++) {
    const waves = Array.from({ length: 3 }, () => ({ fx: 0.5 + 3 * rng.uniform(), fy: 0.5 + 3 * rng.uniform(), ph: 6.283 * rng.uniform(), a: 0.3 * rng.normal() }));
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        let v = 0.05 * rng.normal();
        for (const w of waves) v += w.a * Math.sin((6.283 * (w.fx * x + w.fy * y)) / side + w.ph);
        out[p * side * side + y * side + x] = Math.max(-1, Math.min(1, v));
      }
    }
  }
  return out;
}

/**
 * LPIPS between two images with gradients to both, through the whole network: the input
 * upsampling (24 -> 96), the scaling layer, 13 convs, four max pools, the normalisation
 * and the heads. By default a VGG16-shaped net with few channels and seeded weights.
 */
export function perceptualChecks(net = new LpipsVgg(seededLpipsWeights([4, 5, 6, 6, 7], 11), 'gradcheck-seeded')): CheckCase[] {
  const side = 24;
  const shape = [2, 3, side, side];
  return [
    {
      // Every one of the 13 ReLUs and 4 max pools is a kink, and with few channels a
      // feature vector's norm can be small, which makes the unit-normalisation strongly
      // curved: the central difference needs a small step (the error falls from 0.2 at a
      // relative step of 1e-2 to about 1e-3 at 3e-5 on these inputs).
      step: 3e-5,
      // No untilted directions here (see gradcheck.ts): along a random direction LPIPS's
      // derivative is about 1e-3 and, through its 17 kinks, the central difference misses
      // it by 5% to 100% at relative steps 3e-5 to 3e-4 (measured on both seeded widths), so
      // no tolerance would separate a wrong gradient from a right one.
      name: `LPIPS-VGG (${net.widths.join('/')} channels, ${side}x${side} upsampled)`,
      build(g, rng) {
        const seed = Math.floor(rng.uniform() * 1e9);
        const x = { value: g.input('x', shape), data: smoothImages(2, side, seed) };
        const y = { value: g.input('y', shape), data: smoothImages(2, side, seed + 1) };
        return { wrt: [x, y], out: lpipsLoss(g, net, x.value, y.value) };
      }
    }
  ];
}
