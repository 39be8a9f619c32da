import { strict as assert } from 'node:assert';
import { fcn8ConvCosts, fcn8ForwardFlops } from '../../bench/flops';

describe('bench/flops', () => {
  it('counts a 1/64-width lite FCN-8 at 32x64 layer by layer', () => {
    // Widths: block1 1, block2 2, block3 4, blocks 4-5 8, fc6/fc7 16 (1024/64), 2 classes.
    // 2*k*k*cin*cout*H*W per conv; transposed convs at their input size.
    const expected: Record<string, number> = {
      block1_conv1: 2 * 9 * 3 * 1 * 32 * 64, // 110592
      block1_conv2: 2 * 9 * 1 * 1 * 32 * 64, // 36864
      block2_conv1: 2 * 9 * 1 * 2 * 16 * 32, // 18432
      block2_conv2: 2 * 9 * 2 * 2 * 16 * 32, // 36864
      block3_conv1: 2 * 9 * 2 * 4 * 8 * 16, // 18432
      block3_conv2: 2 * 9 * 4 * 4 * 8 * 16, // 36864
      block3_conv3: 2 * 9 * 4 * 4 * 8 * 16,
      block4_conv1: 2 * 9 * 4 * 8 * 4 * 8, // 18432
      block4_conv2: 2 * 9 * 8 * 8 * 4 * 8, // 36864
      block4_conv3: 2 * 9 * 8 * 8 * 4 * 8,
      block5_conv1: 2 * 9 * 8 * 8 * 2 * 4, // 9216
      block5_conv2: 2 * 9 * 8 * 8 * 2 * 4,
      block5_conv3: 2 * 9 * 8 * 8 * 2 * 4,
      fc6: 2 * 9 * 8 * 16 * 1 * 2, // 4608 (dilation does not add taps)
      fc7: 2 * 1 * 16 * 16 * 1 * 2, // 1024
      score_fr: 2 * 1 * 16 * 2 * 1 * 2, // 128
      upscore2: 2 * 16 * 2 * 2 * 1 * 2, // 256: 4x4 kernel at pool5's 1x2
      score_pool4: 2 * 1 * 8 * 2 * 2 * 4, // 256
      upscore_pool4: 2 * 16 * 2 * 2 * 2 * 4, // 1024
      score_pool3: 2 * 1 * 4 * 2 * 4 * 8, // 512
      upscore8: 2 * 256 * 2 * 2 * 4 * 8, // 65536: 16x16 kernel at pool3's 4x8
    };
    const costs = fcn8ConvCosts({ fc6: 'lite', widthMultiplier: 1 / 64, numClasses: 2 }, 32, 64);
    assert.deepEqual(Object.fromEntries(costs.map((c) => [c.name, c.flops])), expected);
    // 147456 + 55296 + 92160 + 92160 + 27648 + 73344 = 488064 per image.
    assert.equal(fcn8ForwardFlops({ fc6: 'lite', widthMultiplier: 1 / 64, numClasses: 2 }, 32, 64, 2), 2 * 488064);
  });

  it("matches VGG16's published 15.35 GMAC for its 13 convs at 224x224", () => {
    const convs = fcn8ConvCosts({ fc6: 'paper', widthMultiplier: 1, numClasses: 2 }, 224, 224).slice(0, 13);
    assert.equal(
      convs.reduce((s, c) => s + c.flops, 0),
      2 * 15_346_630_656,
    );
  });

  it('gives the paper fc6 its 7x7x512x4096 cost at 160x576', () => {
    const fc6 = fcn8ConvCosts({ fc6: 'paper', widthMultiplier: 1, numClasses: 2 }, 160, 576).find(
      (c) => c.name === 'fc6',
    );
    // pool5 is 5x18.
    assert.equal(fc6?.flops, 2 * 49 * 512 * 4096 * 5 * 18);
  });
});
