import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { checkWasmInternals } from '../../src/backend/wasm-internals';
import { BackendError } from '../../src/util/errors';
import { useBackend } from '../helpers';

describe('backend/wasm-internals', () => {
  before(() => useBackend('wasm'));

  it('the pinned tfjs-backend-wasm has every internal the kernels use', () => {
    checkWasmInternals(tf.backend() as BackendWasm);
  });

  it('a backend without one of them fails at once, naming it and the fix', () => {
    const real = tf.backend() as BackendWasm;
    const wasm = { ...real.wasm, tfjs: { ...real.wasm.tfjs, registerTensor: undefined } };
    const changed = new Proxy(real, { get: (t, k) => (k === 'wasm' ? wasm : Reflect.get(t, k)) });
    assert.throws(
      () => checkWasmInternals(changed),
      (err: unknown) =>
        err instanceof BackendError &&
        /lacks what fcn-ts's wasm training kernels use: wasm\.tfjs\.registerTensor\. Install the version package\.json pins/.test(
          err.message,
        ),
    );
  });
});
