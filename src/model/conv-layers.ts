import { VGG16_BLOCKS, resolveFc6, scaledWidth, type Fcn8Config } from './config';

/** One convolution of buildFcn8(config), as the parameter count, FLOP count and kernel benchmark see it. */
export interface ConvLayer {
  name: string;
  /** Kernel side (FCN-8's kernels are square). */
  kernel: number;
  cin: number;
  cout: number;
  stride: number;
  /** Dilation rate (fc6 of the lite preset: 3; every other layer 1). */
  dilation: number;
  /** A conv2dTranspose (the decoder's upsampling). */
  transposed: boolean;
  bias: boolean;
  /**
   * [height, width] of the layer's input for one image: also where the kernel
   * is applied (stride-1 'same' convs keep the size; a transposed conv
   * scatters each input pixel).
   */
  at: [number, number];
}

/** Every convolution of buildFcn8(model) for a [height, width] input, in layer order. */
export function fcn8ConvLayers(
  model: Pick<Fcn8Config, 'fc6' | 'widthMultiplier' | 'numClasses'>,
  height: number,
  width: number,
): ConvLayer[] {
  const wm = model.widthMultiplier;
  const at = (s: number): [number, number] => [height / s, width / s];
  const layer = (
    name: string,
    kernel: number,
    cin: number,
    cout: number,
    s: number,
    stride = 1,
    transposed = false,
    dilation = 1,
  ): ConvLayer => ({ name, kernel, cin, cout, stride, dilation, transposed, bias: !transposed, at: at(s) });
  const layers: ConvLayer[] = [];
  const poolChannels: number[] = [];
  let cin = 3;
  VGG16_BLOCKS.forEach((block, b) => {
    for (const [name, filters] of block) {
      const cout = scaledWidth(filters, wm);
      layers.push(layer(name, 3, cin, cout, 2 ** b));
      cin = cout;
    }
    poolChannels.push(cin);
  });
  const fc6 = resolveFc6(model.fc6);
  const f = scaledWidth(fc6.filters, wm);
  const c = model.numClasses;
  layers.push(
    layer('fc6', fc6.kernelSize, cin, f, 32, 1, false, fc6.dilation),
    layer('fc7', 1, f, f, 32),
    layer('score_fr', 1, f, c, 32),
    layer('upscore2', 4, c, c, 32, 2, true),
    layer('score_pool4', 1, poolChannels[3], c, 16),
    layer('upscore_pool4', 4, c, c, 16, 2, true),
    layer('score_pool3', 1, poolChannels[2], c, 8),
    layer('upscore8', 16, c, c, 8, 8, true),
  );
  return layers;
}
