"""The model of scripts/bench/nnsh_rnn.lua in PyTorch, for scripts/bench_rnn.sh: one
recurrent layer of 128 units over (batch 64, 50 steps, 32 features), then Dense(10) with
softmax cross-entropy and Adam, on random data. Keras' sigmoid/tanh cells are PyTorch's
defaults. Prints `RESULT <cell>_train_ms ...` and `RESULT <cell>_predict_ms ...`
(medians)."""
import argparse
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument('--cell', default='LSTM')
parser.add_argument('--steps', type=int, default=40)
parser.add_argument('--warmup', type=int, default=5)
args = parser.parse_args()
BATCH, TIME, FEATURES, UNITS = 64, 50, 32, 128

torch.manual_seed(1)
layer = {'LSTM': torch.nn.LSTM, 'GRU': torch.nn.GRU, 'SimpleRNN': torch.nn.RNN}[args.cell]


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = layer(FEATURES, UNITS, batch_first=True)
        self.dense = torch.nn.Linear(UNITS, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.dense(out[:, -1])


model = Model()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
loss_fn = torch.nn.CrossEntropyLoss()
x = torch.randn(BATCH, TIME, FEATURES)
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


print(f'RESULT {args.cell}_train_ms {median_ms(train):.3f}')
print(f'RESULT {args.cell}_predict_ms {median_ms(predict):.3f}')
