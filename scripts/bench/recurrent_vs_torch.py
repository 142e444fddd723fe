"""nnsh's SimpleRNN, LSTM and GRU against PyTorch in double: the module that
scripts/bench/recurrent_dump.lua wrote (path in argv[1]) gives the input, the weights,
nnsh's outputs and one SGD step's gradients; the same weights go into torch.nn.RNN, LSTM
and GRU (Keras' GRU gates z, r, h are PyTorch's r, z, n reordered; its reset_after form
is PyTorch's), and the largest differences are printed: the forward absolutely, the
gradients relative to their largest entry."""
import importlib.util
import sys

import torch

spec = importlib.util.spec_from_file_location('data', sys.argv[1])
data = importlib.util.module_from_spec(spec)
spec.loader.exec_module(data)
torch.set_default_dtype(torch.float64)
x = torch.tensor(data.x)
H = data.units
def reorder_gru(m):  # Keras z,r,h -> torch r,z,n along the last axis
    return torch.cat([m[..., H:2*H], m[..., :H], m[..., 2*H:]], dim=-1)
for cls in ['LSTM', 'GRU', 'SimpleRNN']:
    for back in [False, True]:
        key = cls + ('_b' if back else '_f')
        k = torch.tensor(getattr(data, key + '_k')); u = torch.tensor(getattr(data, key + '_u'))
        b = torch.tensor(getattr(data, key + '_bias'))
        if cls == 'LSTM':
            rnn = torch.nn.LSTM(4, H, batch_first=True)
            wih, whh, bih, bhh = k.T, u.T, b, torch.zeros_like(b)
        elif cls == 'GRU':
            rnn = torch.nn.GRU(4, H, batch_first=True)
            wih, whh, bih, bhh = reorder_gru(k).T, reorder_gru(u).T, reorder_gru(b[0]), reorder_gru(b[1])
        else:
            rnn = torch.nn.RNN(4, H, batch_first=True)
            wih, whh, bih, bhh = k.T, u.T, b, torch.zeros_like(b)
        params = dict(rnn.named_parameters())
        with torch.no_grad():
            params['weight_ih_l0'].copy_(wih); params['weight_hh_l0'].copy_(whh)
            params['bias_ih_l0'].copy_(bih); params['bias_hh_l0'].copy_(bhh)
        inp = torch.flip(x, [1]) if back else x
        y, _ = rnn(inp)
        ynn = torch.tensor(getattr(data, key + '_y'))
        fwd = (y - ynn).abs().max().item()
        dk = torch.tensor(getattr(data, key + '_dense_k')); db = torch.tensor(getattr(data, key + '_dense_b'))
        pred = y.reshape(3, -1) @ dk + db
        loss = (pred ** 2).mean()
        rnn.zero_grad(); loss.backward()
        g = dict((n, p.grad) for n, p in rnn.named_parameters())
        gk = torch.tensor(getattr(data, key + '_gk')); gu = torch.tensor(getattr(data, key + '_gu')); gb = torch.tensor(getattr(data, key + '_gb'))
        if cls == 'GRU':
            tk, tu = reorder_gru(g['weight_ih_l0'].T), reorder_gru(g['weight_hh_l0'].T)
            # torch's r, z, n back to z, r, h: the same swap
            tb = torch.stack([reorder_gru(g['bias_ih_l0']), reorder_gru(g['bias_hh_l0'])])
        else:
            tk, tu, tb = g['weight_ih_l0'].T, g['weight_hh_l0'].T, g['bias_ih_l0']
        scale = lambda t: t.abs().max().item()
        print(f"RESULT {key:12s} forward {fwd:.2e}  dkernel {(gk - tk).abs().max().item()/scale(tk):.2e}  "
              f"drecurrent {(gu - tu).abs().max().item()/scale(tu):.2e}  dbias {(gb - tb).abs().max().item()/scale(tb):.2e}")
