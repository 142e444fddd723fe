#!/usr/bin/env python3
"""A model saved by nnsh reads back with an independent reader (read_safetensors.py,
Python's standard library only): every weight nnsh prints equals, bit for bit, the value
the reader finds; the metadata is JSON any tool can parse; the optimizer state is there.
Environment: NNSH (the nnsh program), NNSH_TEST_TMP (a scratch directory)."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_safetensors import read_safetensors  # noqa: E402

NNSH = os.environ.get('NNSH', 'nnsh')
TMP = os.environ.get('NNSH_TEST_TMP', '/tmp')

SCRIPT = r'''
local path = arg[1]
local L = nn.layers
nn.random.seed(3)
local layers = {L.Dense{6, activation = 'relu', input_shape = {4}}}
-- Every layer kind this tree has (stubs, which cannot build, are left out).
local function available(name)
  local ok, err = pcall(function() L[name]()(nn.zeros(2, 6)) end)
  return ok or not tostring(err):find('not implemented yet', 1, true)
end
if available('BatchNormalization') then layers[#layers + 1] = L.BatchNormalization() end
if available('Dropout') then layers[#layers + 1] = L.Dropout{0.5} end
layers[#layers + 1] = L.Activation{'tanh'}
layers[#layers + 1] = L.Dense{3, activation = 'softmax'}
local model = nn.Sequential(layers)
model:compile{optimizer = {name = 'sgd', momentum = 0.9}, loss = 'sparse_categorical_crossentropy'}
local labels = {}
for i = 1, 32 do labels[i] = i % 3 end
model:fit(nn.random.randn(32, 4), nn.tensor(labels, 'int32'), {epochs = 2, verbose = 0})
model:save(path)
for _, layer in ipairs(model.layers) do
  io.write('layer ', layer.name, ' ', layer.class_name, '\n')
  for _, name in ipairs{'kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance'} do
    local ok, weight = pcall(function() return layer[name] end)
    if ok and weight then
      local dims = {}
      for i = 1, #weight.shape do dims[i] = weight.shape[i] end
      local values = {}
      for i, v in ipairs(weight:flatten():tolist()) do values[i] = string.format('%.17g', v) end
      io.write('tensor ', layer.name, '/', name, ' ', table.concat(dims, ','), ' ',
               table.concat(values, ' '), '\n')
    end
  end
end
'''


class IndependentReader(unittest.TestCase):
    def test_weights_metadata_and_optimizer_state_read_back_exactly(self):
        path = os.path.join(TMP, 'independent-reader.safetensors')
        script = os.path.join(TMP, 'independent-reader.lua')
        with open(script, 'w') as f:
            f.write(SCRIPT)
        run = subprocess.run([NNSH, script, path], capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        printed, layers = {}, []
        for line in run.stdout.splitlines():
            words = line.split(' ')
            if words[0] == 'layer':
                layers.append((words[1], words[2]))
            elif words[0] == 'tensor':
                shape = [int(d) for d in words[2].split(',')] if words[2] else []
                printed[words[1]] = (shape, [float(v) for v in words[3:]])
        self.assertTrue(printed, 'nnsh printed no weights: ' + run.stdout)

        result = read_safetensors(path)
        with open(path, 'rb') as f:
            header_length = int.from_bytes(f.read(8), 'little')
        self.assertEqual((8 + header_length) % 8, 0, 'data 8-byte aligned')

        weights = {n: t for n, t in result.tensors.items() if not n.startswith('optimizer/')}
        self.assertEqual(sorted(weights), sorted(printed), 'the same weight names')
        for name, (shape, values) in printed.items():
            tensor = weights[name]
            self.assertEqual(tensor.dtype, 'F32', name)
            self.assertEqual(tensor.shape, shape, name)
            self.assertEqual(tensor.values, values, name + ': values differ')

        self.assertEqual(result.metadata['nnsh.format'], 'model')
        self.assertEqual(result.metadata['nnsh.format_version'], '1')
        architecture = json.loads(result.metadata['nnsh.architecture'])
        self.assertEqual(architecture['class_name'], 'Sequential')
        self.assertEqual([(e['config']['name'], e['class_name'])
                          for e in architecture['config']['layers']], layers)
        self.assertEqual(architecture['build_input_shape'], [None, 4])
        compiled = json.loads(result.metadata['nnsh.compile'])
        self.assertEqual(compiled['optimizer']['name'], 'sgd')
        self.assertEqual(compiled['optimizer']['momentum'], 0.9)
        state = json.loads(result.metadata['nnsh.optimizer_state'])
        self.assertEqual(state['iterations'], 2 * 1, 'one batch of 32 per epoch')
        for slot in state['slots']:
            for name, tensor in weights.items():
                if name.endswith('/moving_mean') or name.endswith('/moving_variance'):
                    continue
                slot_tensor = result.tensors['optimizer/%s/%s' % (slot, name)]
                self.assertEqual(slot_tensor.shape, tensor.shape)
        self.assertEqual(json.loads(result.metadata['nnsh.training'])['step'], 2)


if __name__ == '__main__':
    unittest.main()
