import type { Fcn8Config } from '../src/model/config';
import { fcn8ConvLayers } from '../src/model/conv-layers';

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

/**
 * Every convolution of buildFcn8(model) for one [height, width] image, in
 * layer order, with 2*k*k*cin*cout*H*W FLOPs (one multiply and one add per
 * tap). Dilation does not change the count (same taps, spread out); pools,
 * ReLUs, adds and dropout are left out (under 1% of the total).
 */
export function fcn8ConvCosts(
  model: Pick<Fcn8Config, 'fc6' | 'widthMultiplier' | 'numClasses'>,
  height: number,
  width: number,
): ConvCost[] {
  return fcn8ConvLayers(model, height, width).map(({ name, kernel, cin, cout, at: [h, w] }) => ({
    name,
    kernel,
    cin,
    cout,
    height: h,
    width: w,
    flops: 2 * kernel * kernel * cin * cout * h * w,
  }));
}

/** Forward FLOPs of buildFcn8(model) for `batch` images of [height, width]. */
export function fcn8ForwardFlops(
  model: Pick<Fcn8Config, 'fc6' | 'widthMultiplier' | 'numClasses'>,
  height: number,
  width: number,
  batch = 1,
): number {
  return batch * fcn8ConvCosts(model, height, width).reduce((sum, c) => sum + c.flops, 0);
}
