"""Checks an `fcn export --format keras-h5` file against the layout Keras's save_weights writes
(keras/src/legacy/saving/legacy_h5_format.py, save_weights_to_hdf5_group), which is also the layout
of Keras's VGG16 weight file. Prints one line per problem and exits 1 if there is any.

usage: python3 keras_h5_layout.py FILE EXPECTED.json
EXPECTED.json: {"layers": [[name, [[weight_name, shape], ...]], ...]} in model order.
"""
import json
import sys

import h5py
import numpy as np


def main(path, expected_path):
    expected = json.load(open(expected_path))["layers"]
    problems = []
    with h5py.File(path, "r") as f:
        for attr in ("layer_names", "backend", "keras_version"):
            if attr not in f.attrs:
                problems.append(f"root attribute {attr} is missing")
        if problems:
            return problems
        names = f.attrs["layer_names"]
        if not (isinstance(names, np.ndarray) and names.dtype.kind == "S"):
            kind = f"{type(names).__name__} {getattr(names, 'dtype', '')}"
            problems.append(f"layer_names is {kind}, not a numpy bytes array")
        names = [n.decode("utf8") for n in names]
        if names != [name for name, _ in expected]:
            problems.append(f"layer_names {names} != {[name for name, _ in expected]}")
        if f.attrs["backend"] != b"tensorflow":
            problems.append(f"backend is {f.attrs['backend']!r}, Keras writes b'tensorflow'")
        if not isinstance(f.attrs["keras_version"], bytes):
            problems.append(f"keras_version is {type(f.attrs['keras_version']).__name__}, Keras writes bytes")
        for name, weights in expected:
            if name not in f:
                problems.append(f"no group /{name}")
                continue
            group = f[name]
            weight_names = [n.decode("utf8") for n in group.attrs["weight_names"]]
            if weight_names != [w for w, _ in weights]:
                problems.append(f"/{name} weight_names {weight_names} != {[w for w, _ in weights]}")
            for weight_name, shape in weights:
                # Keras's variable names "fc6/kernel:0" make the nested path /fc6/fc6/kernel:0.
                if weight_name not in group:
                    problems.append(f"no dataset /{name}/{weight_name}")
                    continue
                ds = group[weight_name]
                if list(ds.shape) != shape or ds.dtype != np.float32:
                    problems.append(f"/{name}/{weight_name} is {ds.dtype}{list(ds.shape)}, expected float32{shape}")
    return problems


if __name__ == "__main__":
    found = main(sys.argv[1], sys.argv[2])
    for line in found:
        print(line)
    print(f"{len(found)} problem(s)")
    sys.exit(1 if found else 0)
