"""The seed tutorial's training run in PyTorch, set up as Keras sets it up, for one seed:
Glorot-uniform kernels and zero biases, validation_split=0.2 (the last 12,000 images held
out, the rest shuffled every epoch), batches of 64, Keras' Adam (epsilon added to the
uncorrected square root), 5 epochs; then the test set's loss and accuracy.

Run by scripts/outcomes.sh with Debian's python3-torch (/usr/bin/python3):
    python3 torch_outcome.py SEED [--epochs N] [--data DIR]
Prints `RESULT test_loss <v>` and `RESULT test_accuracy <v>`.
"""
import argparse
import os

import torch
from torch import nn

from torch_cnn import mnist, seed_cnn


def keras_init(model):
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            # PyTorch's fans for a convolution are channels times the kernel's area, as
            # Keras' are, so the Glorot limit sqrt(6 / (fan_in + fan_out)) is the same.
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)


def keras_adam_step(params, moments, squares, step, rate=1e-3):
    alpha = rate * (1 - 0.999 ** step) ** 0.5 / (1 - 0.9 ** step)
    with torch.no_grad():
        for p, m, v in zip(params, moments, squares):
            g = p.grad
            m.mul_(0.9).add_(g, alpha=0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            p.sub_(alpha * m / (v.sqrt() + 1e-7))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("seed", type=int)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--data", default=os.path.expanduser("~/.local/share/nnsh/datasets/mnist"))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = mnist(args.data, keep_bytes=False)
    train_count = int(x_train.shape[0] * 0.8)
    model = seed_cnn(keep_bytes=False)
    keras_init(model)
    params = list(model.parameters())
    moments = [torch.zeros_like(p) for p in params]
    squares = [torch.zeros_like(p) for p in params]
    loss_fn = nn.CrossEntropyLoss()
    step = 0
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(train_count)
        for first in range(0, train_count, 64):
            index = order[first:first + 64]
            for p in params:
                p.grad = None
            loss_fn(model(x_train[index]), y_train[index]).backward()
            step += 1
            keras_adam_step(params, moments, squares, step)

    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for first in range(0, x_test.shape[0], 256):
            logits = model(x_test[first:first + 256])
            labels = y_test[first:first + 256]
            total_loss += float(nn.functional.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(1) == labels).sum())
    print(f"RESULT test_loss {total_loss / x_test.shape[0]:.4f}")
    print(f"RESULT test_accuracy {correct / x_test.shape[0]:.4f}")


if __name__ == "__main__":
    main()
