import * as tf from '@tensorflow/tfjs';
import { Fcn8Config, VGG16_BLOCKS, resolveFc6, resolveFcn8Config, scaledWidth } from './config';
import { StepDropout } from './step-dropout';
import { bilinearUpsampleKernel } from './surgery';

/**
 * FCN-8s on VGG16 (Long, Shelhamer & Darrell 2015, fig. 3), one layer per
 * line as the authors' net.py reads. Encoder layers keep Keras's VGG16 names
 * and decoder layers the paper's: those names are the contract with weight
 * files and checkpoints.
 *
 * The model takes [B, H, W, 3] with H and W multiples of 32 (any such size,
 * not only config.inputShape: the layers are size-agnostic) and gives logits
 * [B, H, W, numClasses]. With 'same' padding everywhere, pool4 is exactly
 * twice pool5 and pool3 twice pool4, so the paper's crop layers are not needed.
 */
export function buildFcn8(partial: Partial<Fcn8Config> = {}): tf.LayersModel {
  const config = resolveFcn8Config(partial);
  const { numClasses, widthMultiplier: wm, seed } = config;
  const fc6 = resolveFc6(config.fc6);
  const reg = config.l2 > 0 ? () => tf.regularizers.l2({ l2: config.l2 }) : () => undefined;
  // tfjs reads seed 0 as "no seed", so start at 1.
  let seedCounter = seed * 1000 + 1;
  // He init: VGG has no batch norm, and Glorot starves the deep layers when training from scratch.
  const heInit = () => tf.initializers.heNormal({ seed: seedCounter++ });

  const input = tf.input({ shape: [null, null, 3], name: 'image' });
  let x: tf.SymbolicTensor = input;
  const pools: tf.SymbolicTensor[] = [];
  VGG16_BLOCKS.forEach((block, b) => {
    for (const [name, filters] of block) {
      x = tf.layers
        .conv2d({
          name,
          filters: scaledWidth(filters, wm),
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: heInit(),
          kernelRegularizer: reg(),
        })
        .apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ name: `block${b + 1}_pool`, poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
    pools.push(x);
  });
  const [, , pool3, pool4, pool5] = pools;

  // fc6/fc7 as convolutions (paper sec. 3.1).
  const fcFilters = scaledWidth(fc6.filters, wm);
  x = tf.layers
    .conv2d({
      name: 'fc6',
      filters: fcFilters,
      kernelSize: fc6.kernelSize,
      dilationRate: fc6.dilation,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: heInit(),
      kernelRegularizer: reg(),
    })
    .apply(pool5) as tf.SymbolicTensor;
  // No dropout layer at rate 0, so an inference model is made of stock tfjs layers only (loads in a browser as is).
  const dropout = (name: string, from: tf.SymbolicTensor, layerSeed: number) =>
    config.dropout > 0
      ? (new StepDropout({ name, rate: config.dropout, seed: layerSeed }).apply(from) as tf.SymbolicTensor)
      : from;
  x = dropout('drop6', x, seed * 2 + 1);
  x = tf.layers
    .conv2d({
      name: 'fc7',
      filters: fcFilters,
      kernelSize: 1,
      activation: 'relu',
      kernelInitializer: heInit(),
      kernelRegularizer: reg(),
    })
    .apply(x) as tf.SymbolicTensor;
  x = dropout('drop7', x, seed * 2 + 2);

  // Score layers start at zero as in the paper: the net first predicts "uniform" and learns from there.
  const score = (name: string, from: tf.SymbolicTensor) =>
    tf.layers
      .conv2d({
        name,
        filters: numClasses,
        kernelSize: 1,
        kernelInitializer: 'zeros',
        kernelRegularizer: reg(),
      })
      .apply(from) as tf.SymbolicTensor;
  const upsample = (name: string, from: tf.SymbolicTensor, factor: number) =>
    tf.layers
      .conv2dTranspose({
        name,
        filters: numClasses,
        kernelSize: 2 * factor,
        strides: factor,
        padding: 'same',
        useBias: false,
        kernelInitializer: 'zeros',
      })
      .apply(from) as tf.SymbolicTensor;
  // voc-fcn8s-atonce scales the skips so that they start small against score_fr.
  const skip = (name: string, from: tf.SymbolicTensor, scale: number) =>
    config.skipScale === 'atonce' ? (tf.layers.rescaling({ name, scale }).apply(from) as tf.SymbolicTensor) : from;

  const scoreFr = score('score_fr', x);
  const upscore2 = upsample('upscore2', scoreFr, 2);
  const scorePool4 = score('score_pool4', skip('scale_pool4', pool4, 0.01));
  const fusePool4 = tf.layers.add({ name: 'fuse_pool4' }).apply([upscore2, scorePool4]) as tf.SymbolicTensor;
  const upscorePool4 = upsample('upscore_pool4', fusePool4, 2);
  const scorePool3 = score('score_pool3', skip('scale_pool3', pool3, 0.0001));
  const fusePool3 = tf.layers.add({ name: 'fuse_pool3' }).apply([upscorePool4, scorePool3]) as tf.SymbolicTensor;
  const upscore8 = upsample('upscore8', fusePool3, 8);

  const model = tf.model({ name: 'fcn8', inputs: input, outputs: upscore8 });
  // Upsampling starts as bilinear interpolation (paper sec. 3.3); set after build so no tensor is left owned by a
  // config.
  for (const [name, factor] of [
    ['upscore2', 2],
    ['upscore_pool4', 2],
    ['upscore8', 8],
  ] as const) {
    const k = 2 * factor;
    const kernel = tf.tensor4d(bilinearUpsampleKernel(k, numClasses), [k, k, numClasses, numClasses]);
    model.getLayer(name).setWeights([kernel]);
    kernel.dispose();
  }
  return model;
}
