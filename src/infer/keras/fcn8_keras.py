"""The fcn-ts FCN-8 in Keras, for training on more than one GPU (or a TPU) with tf.distribute.

Documented, not run by the project's tests (Debian has no TensorFlow). Needs TensorFlow 2.x
(tf.keras 2 or Keras 3) and h5py.

    npx fcn export --run runs/x --format keras-h5 --out keras/           # keras/fcn8_weights.h5
    python3 src/infer/keras/fcn8_keras.py keras/fcn8_weights.h5 IMAGES LABELS --epochs 10 --out trained.h5
    npx fcn import --keras-h5 trained.h5 --out runs/x-keras              # back to fcn eval / predict / serve

The model is built from the run's config (the file's `fcn_ts_run` attribute), layer by layer as
src/model/fcn8.ts builds it, with the same layer names; weights are matched by layer name. The
file is read and written with h5py in Keras's save_weights layout (legacy HDF5: root attributes
layer_names, backend, keras_version; /<layer>/<layer>/kernel:0), so it does not depend on which
Keras version's save_weights defaults apply. IMAGES and LABELS are folders of PNGs with the same
names (labels: class ids, 255 = ignore), e.g. CamVid's train/ and trainannot/.
"""
import argparse
import json
import os

import h5py
import numpy as np
import tensorflow as tf

VGG16_BLOCKS = [
    [("block1_conv1", 64), ("block1_conv2", 64)],
    [("block2_conv1", 128), ("block2_conv2", 128)],
    [("block3_conv1", 256), ("block3_conv2", 256), ("block3_conv3", 256)],
    [("block4_conv1", 512), ("block4_conv2", 512), ("block4_conv3", 512)],
    [("block5_conv1", 512), ("block5_conv2", 512), ("block5_conv3", 512)],
]
FC6 = {"paper": (4096, 7, 1), "lite": (1024, 3, 3)}  # filters, kernel, dilation (src/model/config.ts)
VGG_MEAN_BGR = [103.939, 116.779, 123.68]
IGNORE = 255


def scaled(filters, width):
    return max(1, round(filters * width))


def build_fcn8(model_config):
    """FCN-8s on VGG16 as src/model/fcn8.ts: same layers, names, padding and order."""
    layers = tf.keras.layers
    width = model_config["widthMultiplier"]
    classes = model_config["numClasses"]
    fc6 = model_config["fc6"]
    if isinstance(fc6, str):
        filters, kernel, dilation = FC6[fc6]
    else:
        filters, kernel, dilation = fc6["filters"], fc6["kernelSize"], fc6["dilation"]
    image = layers.Input(shape=(None, None, 3), name="image")
    x, pools = image, []
    for b, block in enumerate(VGG16_BLOCKS):
        for name, f in block:
            x = layers.Conv2D(scaled(f, width), 3, padding="same", activation="relu", name=name)(x)
        x = layers.MaxPooling2D(2, 2, name=f"block{b + 1}_pool")(x)
        pools.append(x)
    pool3, pool4, pool5 = pools[2], pools[3], pools[4]
    x = layers.Conv2D(scaled(filters, width), kernel, dilation_rate=dilation, padding="same", activation="relu",
                      name="fc6")(pool5)
    if model_config["dropout"] > 0:
        x = layers.Dropout(model_config["dropout"], name="drop6")(x)
    x = layers.Conv2D(scaled(filters, width), 1, activation="relu", name="fc7")(x)
    if model_config["dropout"] > 0:
        x = layers.Dropout(model_config["dropout"], name="drop7")(x)

    def up(name, t, factor):
        return layers.Conv2DTranspose(classes, 2 * factor, strides=factor, padding="same", use_bias=False, name=name)(t)

    def skip(name, t, scale):
        return layers.Rescaling(scale, name=name)(t) if model_config["skipScale"] == "atonce" else t

    score_fr = layers.Conv2D(classes, 1, name="score_fr")(x)
    upscore2 = up("upscore2", score_fr, 2)
    score_pool4 = layers.Conv2D(classes, 1, name="score_pool4")(skip("scale_pool4", pool4, 0.01))
    fuse_pool4 = layers.Add(name="fuse_pool4")([upscore2, score_pool4])
    upscore_pool4 = up("upscore_pool4", fuse_pool4, 2)
    score_pool3 = layers.Conv2D(classes, 1, name="score_pool3")(skip("scale_pool3", pool3, 0.0001))
    fuse_pool3 = layers.Add(name="fuse_pool3")([upscore_pool4, score_pool3])
    return tf.keras.Model(image, up("upscore8", fuse_pool3, 8), name="fcn8")


def read_run(path):
    with h5py.File(path, "r") as f:
        if "fcn_ts_run" not in f.attrs:
            raise SystemExit(f"{path} has no fcn_ts_run attribute; export it with `fcn export --format keras-h5`")
        return json.loads(f.attrs["fcn_ts_run"])


def load_weights(model, path):
    """Sets every layer that has weights from /<layer> (weight_names order: kernel, bias)."""
    with h5py.File(path, "r") as f:
        for layer in model.layers:
            if not layer.weights:
                continue
            group = f[layer.name]
            names = [n.decode("utf8") for n in group.attrs["weight_names"]]
            layer.set_weights([np.asarray(group[n]) for n in names])


def save_weights(model, path, run):
    """Keras's save_weights HDF5 layout, written with h5py (Keras 3 writes another format for .weights.h5)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([l.name.encode("utf8") for l in model.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = tf.keras.__version__.encode("utf8") if hasattr(tf.keras, "__version__") else b"2"
        f.attrs["fcn_ts_run"] = json.dumps(run).encode("utf8")
        for layer in model.layers:
            group = f.create_group(layer.name)
            # fcn import reads the last path segment's role: <layer>/kernel:0, <layer>/bias:0.
            names = [f"{layer.name}/{w.name.split('/')[-1].split(':')[0]}:0" for w in layer.weights]
            group.attrs["weight_names"] = np.array([n.encode("utf8") for n in names]) if names else np.asarray([])
            for name, value in zip(names, layer.get_weights()):
                group.create_dataset(name, data=value.astype(np.float32))


def dataset(images, labels, shape, batch):
    """(BGR minus the ImageNet means, class ids) at the training size, as src/model/preprocess.ts."""
    names = sorted(n for n in os.listdir(images) if n.endswith(".png"))

    def load(name):
        img = tf.image.decode_png(tf.io.read_file(tf.strings.join([images, "/", name])), channels=3)
        lab = tf.image.decode_png(tf.io.read_file(tf.strings.join([labels, "/", name])), channels=1)
        img = tf.image.resize(tf.cast(img, tf.float32), shape)
        lab = tf.image.resize(lab, shape, method="nearest")
        return img[..., ::-1] - VGG_MEAN_BGR, tf.cast(lab[..., 0], tf.int32)

    return (tf.data.Dataset.from_tensor_slices(names).shuffle(len(names)).map(load, tf.data.AUTOTUNE)
            .batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))


def masked_loss(labels, logits):
    """Pixelwise cross-entropy over the pixels that are not ignore (src/model/loss.ts)."""
    mask = tf.cast(labels != IGNORE, tf.float32)
    safe = tf.where(labels == IGNORE, 0, labels)
    ce = tf.keras.losses.sparse_categorical_crossentropy(safe, logits, from_logits=True)
    return tf.reduce_sum(ce * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("weights", help="fcn export --format keras-h5 file")
    p.add_argument("images")
    p.add_argument("labels")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-per-replica", type=int, default=None, help="default: the run's batch size")
    p.add_argument("--out", default="trained.h5")
    args = p.parse_args()
    run = read_run(args.weights)
    config = run["config"]
    strategy = tf.distribute.MirroredStrategy()  # every local GPU; one replica on a CPU-only machine
    batch = (args.batch_per_replica or config["batchSize"]) * strategy.num_replicas_in_sync
    with strategy.scope():
        model = build_fcn8(config["model"])
        load_weights(model, args.weights)
        model.compile(optimizer=tf.keras.optimizers.Adam(config["learningRate"]), loss=masked_loss)
    model.fit(dataset(args.images, args.labels, config["model"]["inputShape"], batch), epochs=args.epochs)
    save_weights(model, args.out, run)
    print(f"wrote {args.out}; bring it back with: npx fcn import --keras-h5 {args.out} --out runs/<name>")


if __name__ == "__main__":
    main()
