"""nnsh's training steps against PyTorch's on the same weights, batches and dropout masks.

    python3 parity_cnn.py STEPS PREFIX [double]
PREFIX_* come from parity_cnn.lua. The Dropout masks are nnsh's own: Philox4x32-10 under
(seed, stream) as engine/random.c, the stream mixed from the layer's and the step's as
engine/layers/dropout.c. The update is Keras' Adam (epsilon outside the bias correction).
Prints, per weight, the largest difference from nnsh's result and how far PyTorch moved
it, then `RESULT parity <largest ratio>`.
"""
import json, os, struct, sys
import numpy as np
import torch
from torch import nn

from torch_cnn import mnist
torch.set_num_threads(2)
steps = int(sys.argv[1]); prefix = sys.argv[2]
dt = torch.float64 if 'double' in sys.argv else torch.float32
M64 = (1 << 64) - 1
def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)
def philox(seed, stream, counters):  # counters: uint64 numpy array -> (n, 4) uint32
    x0 = (counters & 0xFFFFFFFF).astype(np.uint64); x1 = (counters >> np.uint64(32)).astype(np.uint64)
    x2 = np.full_like(x0, stream & 0xFFFFFFFF); x3 = np.full_like(x0, stream >> 32)
    k0 = seed & 0xFFFFFFFF; k1 = seed >> 32
    m = np.uint64(0xFFFFFFFF)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * x0; p1 = np.uint64(0xCD9E8D57) * x2
        hi0, lo0 = p0 >> np.uint64(32), p0 & m; hi1, lo1 = p1 >> np.uint64(32), p1 & m
        y0 = hi1 ^ x1 ^ np.uint64(k0); y2 = hi0 ^ x3 ^ np.uint64(k1)
        x0, x1, x2, x3 = y0, lo1, y2, lo0
        k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF; k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return np.stack([x0, x1, x2, x3], 1)
def keep_mask(seed, layer_stream, step, count, rate=0.5):
    stream = mix64(layer_stream ^ mix64(step))
    blocks = (count + 3) // 4
    words = philox(seed, stream, np.arange(blocks, dtype=np.uint64)).reshape(-1)[:count]
    u = (words >> np.uint64(8)).astype(np.float64) / 16777216.0
    return u >= rate
def dropout_random(path):
    """The (seed, stream) of the model's Dropout layer, from the model file's header (an
    8-byte little-endian length, then JSON whose metadata holds the architecture)."""
    with open(path, 'rb') as model_file:
        length = struct.unpack('<Q', model_file.read(8))[0]
        header = json.loads(model_file.read(length))
    layers = json.loads(header['__metadata__']['nnsh.architecture'])['config']['layers']
    random = next(layer['random'] for layer in layers if layer['class_name'] == 'Dropout')
    return random['seed'], random['stream']
dropout_seed, dropout_stream = dropout_random(prefix + '.nnsh')
x, y, _, _ = mnist(os.path.expanduser('~/.local/share/nnsh/datasets/mnist'), keep_bytes=False)
def load(path):
    lines = open(path).read().split('\n'); ws = []
    for i in range(0, len(lines) - 1, 2):
        shape = [int(v) for v in lines[i].split()]
        ws.append(np.array([float(v) for v in lines[i + 1].split()], dtype=np.float64).reshape(shape))
    return ws
def to_torch(ws):
    k = ws[4].reshape(7, 7, 64, 128).transpose(2, 0, 1, 3).reshape(3136, 128)
    return [ws[0].transpose(3, 2, 0, 1), ws[1], ws[2].transpose(3, 2, 0, 1), ws[3], k.T, ws[5], ws[6].T, ws[7]]
body = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(3136, 128), nn.ReLU()).to(dt)
head = nn.Linear(128, 10).to(dt)
params = [body[0].weight, body[0].bias, body[3].weight, body[3].bias, body[7].weight, body[7].bias, head.weight, head.bias]
init = to_torch(load(prefix + '_init.txt'))
with torch.no_grad():
    for p, w in zip(params, init): p.copy_(torch.from_numpy(np.ascontiguousarray(w)))
ms = [torch.zeros_like(p) for p in params]; vs = [torch.zeros_like(p) for p in params]
lf = nn.CrossEntropyLoss()
for t in range(1, steps + 1):
    xb = x[(t - 1) * 64:t * 64].to(dt); yb = y[(t - 1) * 64:t * 64]
    mask = torch.from_numpy(keep_mask(dropout_seed, dropout_stream, t - 1, 64 * 128).reshape(64, 128)).to(dt)
    for p in params: p.grad = None
    h = body(xb) * mask / 0.5
    lf(head(h), yb).backward()
    alpha = 1e-3 * (1 - 0.999 ** t) ** 0.5 / (1 - 0.9 ** t)
    with torch.no_grad():
        for p, mm, vv in zip(params, ms, vs):
            g = p.grad; mm += (g - mm) * 0.1; vv += (g * g - vv) * 0.001
            p -= mm * alpha / (vv.sqrt() + 1e-7)
after = to_torch(load(prefix + '_after.txt'))
names = ['conv2d.kernel', 'conv2d.bias', 'conv2d_1.kernel', 'conv2d_1.bias', 'dense.kernel',
         'dense.bias', 'dense_1.kernel', 'dense_1.bias']
worst = 0.0
for name, p, a, i0 in zip(names, params, after, init):
    tp = p.detach().double().numpy(); moved = np.abs(tp - i0).max()
    difference = np.abs(tp - a).max(); worst = max(worst, difference / moved)
    print(f'  {name:16s} largest difference {difference:.3e}, moved up to {moved:.3e}')
print(f'RESULT parity {worst:.3e}')
