// Runs the NanoDet TF.js graph model on TF.js's own CPU backend and writes a
// small summary of its outputs to ../nanodet_reference.json, which the Go test
// compares the converted ONNX model against. Run `npm ci && npm run reference`
// here after `make ml-assets`; `make test` never runs this.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');
const modelDir = path.join(process.env.GEOPULSE_ML_ASSETS || path.join(repo, 'ml-assets'), 'nanodet');

// Must match referenceInput in convert_test.go: integer arithmetic, then one
// division rounded to float32, so both sides see the same bits.
function referenceInput(c, h, w) {
  const data = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        data[(ch * h + y) * w + x] = ((x * 3 + y * 5 + ch * 71 + ((x * y) % 17)) % 256) / 255;
  return data;
}

// Must match summarize in convert_test.go.
const SAMPLES = 64;
function summarize(name, t) {
  const v = t.dataSync();
  let sum = 0, sumSq = 0;
  for (const x of v) { sum += x; sumSq += x * x; }
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    const at = Math.floor((i * 7919 * 104729) % v.length);
    samples.push([at, v[at]]);
  }
  return { name, shape: t.shape, sum, sumSq, samples };
}

const model = JSON.parse(fs.readFileSync(path.join(modelDir, 'nanodet.json'), 'utf8'));
const bins = model.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
const bin = Buffer.concat(bins);
await tf.setBackend('cpu');
const graph = await loadGraphModel(tf.io.fromMemory({
  modelTopology: model.modelTopology,
  format: model.format,
  signature: model.signature,
  weightSpecs: model.weightsManifest.flatMap((g) => g.weights),
  weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
}));
const [, c, h, w] = model.signature.inputs['input_1:0'].tensorShape.dim.map((d) => Number(d.size));
const input = tf.tensor(referenceInput(c, h, w), [1, c, h, w]);
const names = Object.keys(model.signature.outputs).sort();
const outs = graph.execute({ input_1: input }, names);
const summary = {
  tfjs: tf.version_core,
  input: { name: 'input_1', shape: [1, c, h, w] },
  outputs: names.map((n, i) => summarize(n.replace(/:0$/, ''), outs[i])),
};
// One line per output keeps the file small and its diffs readable.
const text = JSON.stringify({ ...summary, outputs: [] }).replace(/\[\]}$/,
  `[\n${summary.outputs.map((o) => JSON.stringify(o)).join(',\n')}\n]}\n`);
fs.writeFileSync(path.join(here, '..', 'nanodet_reference.json'), text);
console.log('wrote nanodet_reference.json:', summary.outputs.map((o) => `${o.name} ${o.shape}`).join(', '));
