"""The model of scripts/bench/nnsh_volume.lua in PyTorch, for scripts/bench_volume.sh:
volumes (batch 16, 1 channel, 16 x 32 x 32) through Conv3d(8, 3, padding 1) + relu,
MaxPool3d(2), Conv3d(16, 3, padding 1) + relu, MaxPool3d(2), the mean over the volume,
Linear(10) with softmax cross-entropy and Adam, on random data. Prints
`RESULT volume_train_ms ...` and `RESULT volume_predict_ms ...` (medians)."""
import argparse
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument('--steps', type=int, default=20)
parser.add_argument('--warmup', type=int, default=3)
args = parser.parse_args()
BATCH, DEPTH, SIZE = 16, 16, 32

torch.manual_seed(1)
model = torch.nn.Sequential(
    torch.nn.Conv3d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool3d(2),
    torch.nn.Conv3d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool3d(2),
    torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(), torch.nn.Linear(16, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
loss_fn = torch.nn.CrossEntropyLoss()
x = torch.randn(BATCH, 1, DEPTH, SIZE, SIZE)
y = torch.randint(0, 10, (BATCH,))


def train():
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()


def predict():
    with torch.no_grad():
        torch.softmax(model(x), dim=1)


def median_ms(fn):
    for _ in range(args.warmup):
        fn()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[(len(times) - 1) // 2]


print(f'RESULT volume_train_ms {median_ms(train):.3f}')
print(f'RESULT volume_predict_ms {median_ms(predict):.3f}')
