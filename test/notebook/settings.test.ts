import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SelectedBackend } from '../../src/backend';
import { DATASETS } from '../../src/data/registry';
import type { DatasetName } from '../../src/data/types';
import {
  PROJECT_ROOT,
  changesInCell,
  describeChanges,
  figuresDir,
  hyperparameters,
  notebookRunDir,
  presetFromEnv,
  trainConfigOf,
} from '../../src/notebook';
import { settingsSource } from '../../src/notebook/settings-source';
import { PRESETS } from '../../src/run/config';

const backend = (choice: SelectedBackend['choice']) => ({ choice }) as SelectedBackend;

describe('notebook settings', () => {
  it('presetFromEnv: FCN_PRESET wins; else paper on a GPU backend, cpu otherwise', () => {
    assert.equal(presetFromEnv(backend('wasm'), { FCN_PRESET: 'smoke' }), 'smoke');
    assert.equal(presetFromEnv(backend('gpu'), {}), 'paper');
    assert.equal(presetFromEnv(backend('webgpu'), {}), 'paper');
    assert.equal(presetFromEnv(backend('wasm'), {}), 'cpu');
    assert.throws(
      () => presetFromEnv(backend('wasm'), { FCN_PRESET: 'fast' }),
      /FCN_PRESET=fast is not a preset; use one of paper, cpu, smoke/,
    );
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
    const config = trainConfigOf(
      'cpu',
      hyperparameters('cpu', 'kitti-road', { fc6: 'paper', learningRate: 5e-4 }, {}),
      'kitti-road',
    );
    assert.equal(config.model.fc6, 'paper');
    assert.equal(config.learningRate, 5e-4);
    assert.equal(config.model.widthMultiplier, PRESETS.cpu.model.widthMultiplier);
  });

  it("camvid: the preset's 4:3 input and class weights reach the hyperparameters and the config", () => {
    const hp = hyperparameters('cpu', 'camvid', { classWeights: 'median-frequency' }, {});
    assert.deepEqual(hp.inputShape, [192, 256]);
    const config = trainConfigOf('cpu', hp, 'camvid');
    assert.equal(config.classWeights, 'median-frequency');
    assert.deepEqual(config.model.inputShape, [192, 256]);
  });

  it('notebookRunDir: same settings and more epochs → same folder; another learning rate → another', () => {
    const env = { FCN_RUNS: '/runs' };
    const of = (changes: object) => {
      const hp = hyperparameters('smoke', 'kitti-road', changes, {});
      return notebookRunDir(trainConfigOf('smoke', hp, 'kitti-road'), 'kitti-road', '/data/road', hp.pretrained, env);
    };
    assert.equal(of({}), of({ epochs: 9 }));
    assert.notEqual(of({}), of({ learningRate: 0.01 }));
    assert.notEqual(of({}), of({ dropout: 0.3 }));
    assert.notEqual(of({ widthMultiplier: 1, pretrained: false }), of({ widthMultiplier: 1, pretrained: true }));
    assert.match(of({}), /^\/runs\/notebook-kitti-road-smoke-[0-9a-f]{8}$/);
    assert.equal(figuresDir({ FCN_FIGURES: '/f' }), '/f');
    assert.equal(figuresDir({}), path.join(PROJECT_ROOT, 'figures'));
  });

  it('architecture and training fields reach the config; pretrained needs width 1 and says how to fix it', () => {
    const hp = hyperparameters(
      'cpu',
      'kitti-road',
      { widthMultiplier: 1, dropout: 0.3, l2: 1e-4, seed: 7, pretrained: true },
      {},
    );
    const config = trainConfigOf('cpu', hp, 'kitti-road');
    assert.deepEqual(
      [config.model.widthMultiplier, config.model.dropout, config.model.l2, config.seed],
      [1, 0.3, 1e-4, 7],
    );
    assert.equal(
      hyperparameters('cpu', 'kitti-road', {}, {}).pretrained,
      false,
      "the cpu preset's width 0.25 cannot take VGG16",
    );
    assert.equal(hyperparameters('paper', 'kitti-road', {}, {}).pretrained, true);
    assert.throws(
      () => trainConfigOf('cpu', hyperparameters('cpu', 'kitti-road', { pretrained: true }, {}), 'kitti-road'),
      /pretrained: true needs widthMultiplier 1 .* got 0.25; set widthMultiplier: 1 or pretrained: false/,
    );
  });

  it("the cell's changes are what differs from the written cpu preset; they apply to the preset in force", () => {
    const written = hyperparameters('cpu', 'camvid', {}, {});
    assert.deepEqual(changesInCell('camvid', written, {}), {}, 'the cell as written changes nothing');
    const cell = { ...written, learningRate: 5e-4, augment: null };
    assert.deepEqual(changesInCell('camvid', cell, {}), { learningRate: 5e-4, augment: null });
    // On the smoke preset the unchanged fields stay smoke's.
    const inForce = hyperparameters('smoke', 'camvid', changesInCell('camvid', cell, {}), {});
    assert.equal(inForce.epochs, PRESETS.smoke.epochs);
    assert.equal(describeChanges(hyperparameters('smoke', 'camvid', {}, {}), inForce), 'learningRate 0.001 → 0.0005');
    assert.equal(describeChanges(written, written), null);
  });

  it("each notebook's hyperparameters cell is the cpu preset written out, every field with a comment", () => {
    for (const dataset of Object.keys(DATASETS) as DatasetName[]) {
      const file = path.join(PROJECT_ROOT, 'notebooks', `${DATASETS[dataset].figureName}.ipynb`);
      const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { source: string | string[] }[] };
      const cell = nb.cells.map((c) => [c.source].flat().join('')).find((s) => s.includes('NotebookSession.setUp'));
      assert.equal(
        cell,
        settingsSource(dataset),
        `${file}: copy settingsSource('${dataset}') into its hyperparameters cell`,
      );
    }
    const source = settingsSource('kitti-road');
    for (const field of Object.keys(hyperparameters('cpu', 'kitti-road', {}, {}))) {
      assert.match(source, new RegExp(`  // [^\\n]+\\n  (// )?${field}: `), `${field} has a comment line above it`);
    }
    assert.ok(source.split('\n').every((l) => l.length <= 120));
  });
});
