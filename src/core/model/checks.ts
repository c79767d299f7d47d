// Whole-network gradient checks: d/dW+, d/dStyleSpace, d/d one conv weight, d/dz. Each
// also takes untilted random directions (gradcheck.ts says why the tilted ones are not enough).
import { UNTILTED_DIRECTIONS, type CheckCase } from '../graph/gradcheck';
import { ModelBundle, tensor } from './bundle';
import { StyleGan2 } from './stylegan2';

export function modelChecks(bundle: ModelBundle): CheckCase[] {
  const net = new StyleGan2(bundle);
  const a = net.arch;
  const wAvg = tensor(bundle, 'mapping.w_avg');
  const convName = net.layers.find((l) => l.kind === 'conv' && l.res === 8 && !l.up)!.name;
  const label = `${bundle.manifest.name} ${a.resolution}x${a.resolution}`;
  const cases: CheckCase[] = [
    {
      name: `whole network d/dW+ (${label})`,
      build(g, rng) {
        const data = rng.normals(net.numWs * a.wDim, 0.5);
        for (let i = 0; i < data.length; i++) data[i]! += wAvg[i % a.wDim]!;
        const wplus = g.input('wplus', [1, net.numWs, a.wDim]);
        return { wrt: [{ value: wplus, data }], out: net.render(g, wplus) };
      }
    },
    {
      name: `whole network d/dStyleSpace (${label})`,
      build(g, rng) {
        const data = rng.normals(net.styleDim, 0.3);
        for (let i = 0; i < data.length; i++) data[i]! += 1;
        const s = g.input('s', [1, net.styleDim]);
        return { wrt: [{ value: s, data }], out: net.synthesis(g, s) };
      }
    },
    {
      name: `whole network d/d conv weight ${convName}.weight (${label})`,
      build(g, rng) {
        const sData = rng.normals(net.styleDim, 0.3);
        for (let i = 0; i < sData.length; i++) sData[i]! += 1;
        const s = g.constant(sData, [1, net.styleDim]);
        const out = net.synthesis(g, s, { trainable: [`${convName}.weight`] });
        const w = g.initializers.find((i) => i.name === `${convName}.weight`)!;
        return { wrt: [{ value: w.value, data: new Float32Array(w.data as Float32Array) }], out };
      }
    },
    {
      name: `mapping network d/dz (${label})`,
      build(g, rng) {
        const z = g.input('z', [2, a.zDim]);
        return { wrt: [{ value: z, data: rng.normals(2 * a.zDim) }], out: net.mapping(g, z) };
      }
    }
  ];
  return cases.map((c) => ({ untilted: UNTILTED_DIRECTIONS, ...c }));
}
