"""The seed CNN in PyTorch, timed the way scripts/bench/nnsh_cnn.lua times nnsh.

Run by scripts/bench.sh with Debian's python3-torch (/usr/bin/python3):
    python3 torch_cnn.py --mode short [--steps 100] [--warmup 10]
    python3 torch_cnn.py --mode epoch [--pixels bytes]
--pixels float (default) scales the images to floats up front, as the seed does;
--pixels bytes keeps them uint8 and scales each batch in the model's first module.
Prints `RESULT <name> <value>` lines. The model is written the way a PyTorch user would:
NCHW tensors, torch.nn layers, Adam with Keras' epsilon, one epoch of shuffled batches
gathered by index, then validation in eval mode without gradients.
"""
import argparse
import ctypes
import gc
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def load_idx(path):
    data = np.fromfile(path, dtype=np.uint8)  # writable, so torch can share it
    ndim = int(data[3])
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim].tobytes())
    return data[4 + 4 * ndim:].reshape(dims)


def mnist(folder, keep_bytes):
    # The same operations as the seed's nnsh code, x:astype('float32') / 255: a float
    # copy of the bytes, then the scaled result (or the bytes as they are).
    def images(name):
        pixels = torch.from_numpy(load_idx(os.path.join(folder, name)).reshape(-1, 1, 28, 28))
        return pixels if keep_bytes else pixels.float() / 255.0

    def labels(name):
        return torch.from_numpy(load_idx(os.path.join(folder, name)).astype(np.int64))

    return (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte"),
            images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte"))


def openblas_core():
    """The OpenBLAS kernel set PyTorch's process loaded, or '?'."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libopenblas" in line}
        for path in paths:
            library = ctypes.CDLL(path)
            library.openblas_get_corename.restype = ctypes.c_char_p
            return library.openblas_get_corename().decode()
    except OSError:
        pass
    return "?"


def peak_rss_mb():
    """Peak resident memory so far (VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss():
    """Starts VmHWM again from the current resident size (Linux: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


class Rescale(nn.Module):
    """uint8 images to floats in [0, 1], a batch at a time (nnsh's Rescaling{1/255})."""

    def forward(self, x):
        return x.float() / 255.0


def seed_cnn(keep_bytes):
    first = [Rescale()] if keep_bytes else []
    return nn.Sequential(
        *first, nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


def train_steps(model, optimizer, x, y, order, first_step, steps, batch):
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for step in range(first_step, first_step + steps):
        index = order[step * batch:(step + 1) * batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[index]), y[index])
        loss.backward()
        optimizer.step()


def evaluate(model, x, y, batch):
    model.eval()
    correct = 0
    with torch.no_grad():
        for first in range(0, x.shape[0], batch):
            logits = model(x[first:first + batch])
            if y is not None:
                correct += int((logits.argmax(1) == y[first:first + batch]).sum())
    return correct / x.shape[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["short", "epoch"], required=True)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--pixels", choices=["float", "bytes"], default="float")
    parser.add_argument("--data", default=os.path.expanduser("~/.local/share/nnsh/datasets/mnist"))
    args = parser.parse_args()

    # Debian's build starts with one intra-op thread here; give it every core, as nnsh has.
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    keep_bytes = args.pixels == "bytes"
    x_train, y_train, x_test, y_test = mnist(args.data, keep_bytes)
    train_count = int(x_train.shape[0] * 0.8)  # validation_split=0.2 takes the last 20%
    model = seed_cnn(keep_bytes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    order = torch.randperm(train_count)
    print(f"RESULT torch_threads {torch.get_num_threads()}")
    print(f"RESULT openblas_core {openblas_core()}")

    process_peak = 0.0
    if args.mode == "short":
        train_steps(model, optimizer, x_train, y_train, order, 0, args.warmup, args.batch)
        start = time.perf_counter()
        train_steps(model, optimizer, x_train, y_train, order, args.warmup, args.steps, args.batch)
        elapsed = time.perf_counter() - start
        print(f"RESULT train_ms_per_step {1000 * elapsed / args.steps:.3f}")
        evaluate(model, x_test[:args.batch * 4], None, args.batch)  # warm-up
        start = time.perf_counter()
        evaluate(model, x_test, None, args.batch)
        elapsed = time.perf_counter() - start
        print(f"RESULT infer_images_per_s {x_test.shape[0] / elapsed:.1f}")
    if args.mode == "epoch":
        process_peak = peak_rss_mb()
        gc.collect()
        reset_peak_rss()
        steps = (train_count + args.batch - 1) // args.batch
        start = time.perf_counter()
        train_steps(model, optimizer, x_train, y_train, order, 0, steps, args.batch)
        trained = time.perf_counter()
        accuracy = evaluate(model, x_train[train_count:], y_train[train_count:], args.batch)
        done = time.perf_counter()
        print(f"RESULT epoch_s {done - start:.3f}")
        print(f"RESULT epoch_train_s {trained - start:.3f}")
        print(f"RESULT epoch_val_s {done - trained:.3f}")
        print(f"RESULT val_accuracy {accuracy:.4f}")
        print(f"RESULT train_peak_rss_mb {peak_rss_mb():.1f}")
    print(f"RESULT peak_rss_mb {max(process_peak, peak_rss_mb()):.1f}")


if __name__ == "__main__":
    main()
