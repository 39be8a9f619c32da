import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { SelectedBackend } from '../../src/backend';
import {
  PROJECT_ROOT, figuresDir, hyperparameters, notebookRunDir, presetFromEnv, trainConfigOf,
} from '../../src/notebook';
import { PRESETS } from '../../src/train/config';

const backend = (choice: SelectedBackend['choice']) => ({ choice }) as SelectedBackend;

describe('notebook settings', () => {
  it('presetFromEnv: FCN_PRESET wins; else paper on a GPU backend, cpu otherwise', () => {
    assert.equal(presetFromEnv(backend('wasm'), { FCN_PRESET: 'smoke' }), 'smoke');
    assert.equal(presetFromEnv(backend('gpu'), {}), 'paper');
    assert.equal(presetFromEnv(backend('webgpu'), {}), 'paper');
    assert.equal(presetFromEnv(backend('wasm'), {}), 'cpu');
    assert.throws(() => presetFromEnv(backend('wasm'), { FCN_PRESET: 'fast' }), /FCN_PRESET=fast is not a preset; use one of paper, cpu, smoke/);
  });

  it('hyperparameters take the preset values, then the changes; FCN_DATA names the folder', () => {
    const hp = hyperparameters('paper', 'kitti-road', { epochs: 3 }, {});
    assert.deepEqual(hp.inputShape, PRESETS.paper.model.inputShape);
    assert.equal(hp.batchSize, 10);
    assert.equal(hp.learningRate, 1e-4);
    assert.equal(hp.epochs, 3);
    assert.equal(hp.dataDir, path.join(PROJECT_ROOT, 'data/data_road'));
    assert.equal(hyperparameters('cpu', 'cityscapes', {}, { FCN_DATA: '/x/cs' }).dataDir, '/x/cs');
  });

  it('trainConfigOf validates: a size not divisible by 32 names the padded size', () => {
    const hp = hyperparameters('cpu', 'kitti-road', { inputShape: [100, 300] }, {});
    assert.throws(() => trainConfigOf('cpu', hp, 'kitti-road'), /input 100x300 is not divisible by 32; use 128x320/);
    const config = trainConfigOf('cpu', hyperparameters('cpu', 'kitti-road', { fc6: 'paper', learningRate: 5e-4 }, {}), 'kitti-road');
    assert.equal(config.model.fc6, 'paper');
    assert.equal(config.learningRate, 5e-4);
    assert.equal(config.model.widthMultiplier, PRESETS.cpu.model.widthMultiplier);
  });

  it('camvid: the preset\'s 4:3 input and class weights reach the hyperparameters and the config', () => {
    const hp = hyperparameters('cpu', 'camvid', { classWeights: 'median-frequency' }, {});
    assert.deepEqual(hp.inputShape, [192, 256]);
    const config = trainConfigOf('cpu', hp, 'camvid');
    assert.equal(config.classWeights, 'median-frequency');
    assert.deepEqual(config.model.inputShape, [192, 256]);
  });

  it('notebookRunDir: same settings and more epochs → same folder; another learning rate → another', () => {
    const env = { FCN_RUNS: '/runs' };
    const of = (changes: object) => notebookRunDir(
      trainConfigOf('smoke', hyperparameters('smoke', 'kitti-road', changes, {}), 'kitti-road'), 'kitti-road', '/data/road', env);
    assert.equal(of({}), of({ epochs: 9 }));
    assert.notEqual(of({}), of({ learningRate: 0.01 }));
    assert.match(of({}), /^\/runs\/notebook-kitti-road-smoke-[0-9a-f]{8}$/);
    assert.equal(figuresDir({ FCN_FIGURES: '/f' }), '/f');
    assert.equal(figuresDir({}), path.join(PROJECT_ROOT, 'figures'));
  });
});
