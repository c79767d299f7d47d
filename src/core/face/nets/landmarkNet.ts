// face-api's FaceLandmark68Net: four densely connected blocks of separable convolutions
// (src/faceFeatureExtractor) and a fully connected layer to 68 (x, y) pairs relative
// to the padded 112x112 face crop (src/faceLandmarkNet).
import { Graph, type Value } from '../../graph/graph';
import { serialize, type SerializedModel } from '../../graph/serialize';
import { Layers } from './layers';
import type { WeightMap } from './weights';

export const FACE_LANDMARK_68 = 'face_landmark_68_model';
export const LANDMARK_INPUT = 112;
const MEAN_RGB = [122.782, 117.001, 104.298] as const;

function denseBlock4(L: Layers, x: Value, prefix: string, isFirst: boolean): Value {
  const { g } = L;
  const out1 = g.relu(
    isFirst ? L.conv(x, `${prefix}/conv0/filters`, `${prefix}/conv0/bias`, 2, 'same') : L.separableConv(x, `${prefix}/conv0`, 2, 'same')
  );
  const out2 = L.separableConv(out1, `${prefix}/conv1`, 1, 'same');
  const in3 = g.relu(g.add(out1, out2));
  const out3 = L.separableConv(in3, `${prefix}/conv2`, 1, 'same');
  const in4 = g.relu(g.add(out1, g.add(out2, out3)));
  const out4 = L.separableConv(in4, `${prefix}/conv3`, 1, 'same');
  return g.relu(g.add(out1, g.add(out2, g.add(out3, out4))));
}

/** Input 'face' [batch, 3, 112, 112] of 0..255 pixels -> 'landmarks' [batch, 136], relative (x0, y0, x1, ...). */
export function buildLandmarkNet(weights: WeightMap, batch: number): SerializedModel {
  const g = new Graph();
  const L = new Layers(g, weights, FACE_LANDMARK_68);
  let x = L.normalize(g.input('face', [batch, 3, LANDMARK_INPUT, LANDMARK_INPUT]), MEAN_RGB);
  for (let i = 0; i < 4; i++) x = denseBlock4(L, x, `dense${i}`, i === 0);
  x = g.averagePool(x, 7, 2);
  const features = g.reshape(x, [batch, -1]);
  const out = L.dense(features, 'fc/weights', 'fc/bias');
  return serialize(g, [{ name: 'landmarks', value: out }], { graphName: 'face_landmark_68' });
}
