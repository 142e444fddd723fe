"""The seed's MNIST CNN in PyTorch on the same GPU, for comparison with nnsh.

Same model (padding 'same', Keras' Glorot-uniform kernels and zero biases), Adam with
Keras' epsilon, batch 64, the last 20% of the training set for validation (as Keras'
validation_split), shuffled every epoch. The data set is read from the same IDX files
nnsh reads and kept on the GPU, PyTorch's fastest input path. Prints one line of
key=value results (appended to --result too).
    python3 scripts/gpu/torch_mnist_cnn.py --data DIR [--epochs 5] [--result FILE]
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def load_idx(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            ndim = data[3]
            dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    raise FileNotFoundError(f"{name}[.gz] not found in {directory}")


def model():
    m = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10))
    for layer in m:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return m


def accuracy(net, x, y, batch=1024):
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            out = net(x[start:start + batch])
            loss += nn.functional.cross_entropy(out, y[start:start + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[start:start + batch]).sum().item()
    net.train()
    return correct / len(x), loss / len(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--result")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    device = torch.device("cuda")
    torch.manual_seed(args.seed)
    # nnsh searches cuDNN's algorithms once per shape; let PyTorch do the same.
    torch.backends.cudnn.benchmark = True

    def tensors(images, labels):
        x = torch.tensor(load_idx(args.data, images), dtype=torch.float32).div_(255)
        y = torch.tensor(load_idx(args.data, labels).astype(np.int64))
        return x.reshape(-1, 1, 28, 28).to(device), y.to(device)

    x_all, y_all = tensors("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    x_test, y_test = tensors("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    split = int(len(x_all) * 0.8)
    x_train, y_train, x_val, y_val = x_all[:split], y_all[:split], x_all[split:], y_all[split:]

    net = model().to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for epoch in range(args.epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        order = torch.randperm(split, device=device)
        # The epoch's training loss and accuracy as Keras reports them (means over the
        # batches, dropout on), summed on the GPU so that no step waits for the host.
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        for first in range(0, split, 64):
            index = order[first:first + 64]
            optimizer.zero_grad(set_to_none=True)
            output = net(x_train[index])
            loss = loss_fn(output, y_train[index])
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(index)
            correct += (output.detach().argmax(1) == y_train[index]).sum()
        val_accuracy, _ = accuracy(net, x_val, y_val)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        print(f"epoch {epoch + 1}: {times[-1]:.2f}s, loss {loss_sum.item() / split:.4f}, "
              f"accuracy {correct.item() / split:.4f}, val_accuracy {val_accuracy:.4f}",
              flush=True)
    test_accuracy, test_loss = accuracy(net, x_test, y_test)
    later = sorted(times[1:]) or times
    line = (f"torch version={torch.__version__} cudnn={torch.backends.cudnn.version()} "
            f"device={torch.cuda.get_device_name(0).replace(' ', '_')} epochs={len(times)} "
            f"epoch_seconds={','.join(f'{t:.3f}' for t in times)} "
            f"median_later_epoch={later[(len(later) - 1) // 2]:.3f} "
            f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f} "
            f"val_accuracy={val_accuracy:.4f} "
            f"cudnn_benchmark={int(torch.backends.cudnn.benchmark)} "
            f"tf32_conv={int(torch.backends.cudnn.allow_tf32)} "
            f"tf32_matmul={int(torch.backends.cuda.matmul.allow_tf32)}")
    print(line)
    if args.result:
        with open(args.result, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
