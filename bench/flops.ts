import { VGG16_BLOCKS, resolveFc6, scaledWidth, type Fcn8Config } from '../src/model/config';

/** One convolution of FCN-8 as the FLOP count sees it. */
export interface ConvCost {
  name: string;
  /** Kernel side (square kernels only in FCN-8). */
  kernel: number;
  cin: number;
  cout: number;
  /**
   * Spatial positions the kernel is applied at: the output size of a
   * convolution, the input size of a transposed one (each input pixel
   * scatters k*k*cout products).
   */
  height: number;
  width: number;
  flops: number;
}

/** 2*k*k*cin*cout*H*W: one multiply and one add per tap. */
function conv(name: string, kernel: number, cin: number, cout: number, height: number, width: number): ConvCost {
  return { name, kernel, cin, cout, height, width, flops: 2 * kernel * kernel * cin * cout * height * width };
}

/**
 * Every convolution of buildFcn8(model) for one [height, width] image, in
 * layer order. Dilation does not change the count (same taps, spread out);
 * pools, ReLUs, adds and dropout are left out (under 1% of the total).
 */
export function fcn8ConvCosts(model: Pick<Fcn8Config, 'fc6' | 'widthMultiplier' | 'numClasses'>,
  height: number, width: number): ConvCost[] {
  const wm = model.widthMultiplier;
  const costs: ConvCost[] = [];
  const poolChannels: number[] = [];
  let cin = 3;
  VGG16_BLOCKS.forEach((block, b) => {
    const s = 2 ** b;
    for (const [name, filters] of block) {
      const cout = scaledWidth(filters, wm);
      costs.push(conv(name, 3, cin, cout, height / s, width / s));
      cin = cout;
    }
    poolChannels.push(cin);
  });
  const fc6 = resolveFc6(model.fc6);
  const f = scaledWidth(fc6.filters, wm);
  const c = model.numClasses;
  const [h32, w32, h16, w16, h8, w8] = [height / 32, width / 32, height / 16, width / 16, height / 8, width / 8];
  costs.push(conv('fc6', fc6.kernelSize, cin, f, h32, w32));
  costs.push(conv('fc7', 1, f, f, h32, w32));
  costs.push(conv('score_fr', 1, f, c, h32, w32));
  costs.push(conv('upscore2', 4, c, c, h32, w32));
  costs.push(conv('score_pool4', 1, poolChannels[3], c, h16, w16));
  costs.push(conv('upscore_pool4', 4, c, c, h16, w16));
  costs.push(conv('score_pool3', 1, poolChannels[2], c, h8, w8));
  costs.push(conv('upscore8', 16, c, c, h8, w8));
  return costs;
}

/** Forward FLOPs of buildFcn8(model) for `batch` images of [height, width]. */
export function fcn8ForwardFlops(model: Pick<Fcn8Config, 'fc6' | 'widthMultiplier' | 'numClasses'>,
  height: number, width: number, batch = 1): number {
  return batch * fcn8ConvCosts(model, height, width).reduce((sum, c) => sum + c.flops, 0);
}
