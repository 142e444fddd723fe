-- End to end: write a small IDX data set, load it back, and train a small CNN on it to
-- clearly better than chance in seconds.
local t = require 'harness'
local L = nn.layers

local directory = os.getenv('NNSH_TEST_TMP') or '/tmp'
local images_path = directory .. '/nnsh-e2e-images-idx3-ubyte'
local labels_path = directory .. '/nnsh-e2e-labels-idx1-ubyte'

-- Three classes of 12x12 images: a bright horizontal bar, a vertical bar, or a
-- diagonal, at random positions with noise.
local function make_dataset(count)
  nn.random.seed(2024)
  local noise = (nn.random.uniform(count, 12, 12) * 60):tolist()
  local labels = {}
  local images = {}
  local offsets = nn.random.randint(2, 10, count):tolist()
  local classes = nn.random.randint(0, 3, count):tolist()
  for n = 1, count do
    local class, at = classes[n], offsets[n]
    local image = noise[n]
    for i = 1, 12 do
      if class == 0 then image[at][i] = 220 + image[at][i] % 30
      elseif class == 1 then image[i][at] = 220 + image[i][at] % 30
      else image[i][i] = 220 + image[i][i] % 30 end
    end
    images[n] = image
    labels[n] = class
  end
  return nn.tensor(images, 'uint8'), nn.tensor(labels, 'uint8')
end

t.test('IDX files round-trip exactly', function()
  local images, labels = make_dataset(600)
  nn.datasets.save_idx(images, images_path)
  nn.datasets.save_idx(labels, labels_path)
  local images2, labels2 = nn.datasets.load_idx(images_path), nn.datasets.load_idx(labels_path)
  t.eq(images2.dtype, 'uint8')
  t.eq(tostring(images2.shape), '(600, 12, 12)')
  t.truthy(images2 == images and labels2 == labels, 'same values')
end)



t.test('save_idx writes gzip when the path ends in .gz, and load_idx reads it back', function()
  local images = make_dataset(50)
  local path = directory .. '/nnsh-gz-images-idx3-ubyte.gz'
  nn.datasets.save_idx(images, path)
  local bytes = t.read_file(path)
  t.eq(bytes:sub(1, 2), '\x1f\x8b', 'the gzip magic number')
  t.truthy(#bytes < 50 * 12 * 12, 'compressed: ' .. #bytes .. ' bytes')
  local loaded = nn.datasets.load_idx(path)
  t.eq(tostring(loaded.shape), '(50, 12, 12)')
  t.truthy(loaded == images, 'same values')
  local raw = directory .. '/nnsh-raw-images-idx3-ubyte'
  nn.datasets.save_idx(images, raw)
  t.eq(t.read_file(raw):sub(1, 4), '\0\0\x08\x03', 'without .gz the file is raw IDX')
  os.remove(raw)
  os.remove(path)
end)

t.test('a truncated gzip IDX file is reported as a truncated gzip stream', function()
  local path = directory .. '/nnsh-gz-labels-idx1-ubyte.gz'
  nn.datasets.save_idx(nn.random.randint(0, 256, 5000):astype('uint8'), path)
  local bytes = t.read_file(path)
  local cut = directory .. '/nnsh-cut-labels-idx1-ubyte.gz'
  for _, length in ipairs{15, #bytes // 2, #bytes - 4} do
    t.write_file(cut, bytes:sub(1, length))
    t.raises(function() nn.datasets.load_idx(cut) end, cut, 'gzip stream is truncated')
  end
  os.remove(cut)
  os.remove(path)
end)

t.test('a small CNN learns the generated data set far above chance', function()
  nn.random.seed(1)
  local images, labels = nn.datasets.load_idx(images_path), nn.datasets.load_idx(labels_path)
  local x = images:reshape(-1, 12, 12, 1):astype('float32') / 255
  local model = nn.Sequential{
    L.Conv2D{8, 3, activation = 'relu', input_shape = {12, 12, 1}},
    L.MaxPooling2D{2},
    L.Flatten(),
    L.Dense{16, activation = 'relu'},
    L.Dense{3, activation = 'softmax'},
  }
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local started = os.clock()
  local history = model:fit(x:slice(1, 500), labels:slice(1, 500),
                            {epochs = 8, batch_size = 32, verbose = 0, validation_split = 0.2})
  local loss, accuracy = model:evaluate(x:slice(501, 600), labels:slice(501, 600), {verbose = 0})
  io.write(string.format('      held-out accuracy %.3f after %.1f s of CPU\n', accuracy,
                         os.clock() - started))
  t.truthy(accuracy > 0.8, 'accuracy ' .. accuracy .. ' should be far above chance (0.33)')
  t.truthy(history.history.loss[8] < history.history.loss[1], 'training loss fell')
end)

-- Images kept as uint8 and scaled by a Rescaling layer train exactly as the same model
-- fed float32 copies of the bytes: each batch becomes floats as it is gathered.
t.test('fit, evaluate and predict take uint8 images with a Rescaling layer', function()
  local images, labels = nn.datasets.load_idx(images_path), nn.datasets.load_idx(labels_path)
  local bytes = images:reshape(-1, 12, 12, 1)
  local function train(x)
    nn.random.seed(3)
    local model = nn.Sequential{
      L.Rescaling{1 / 255, input_shape = {12, 12, 1}},
      L.Conv2D{4, 3, activation = 'relu'},
      L.MaxPooling2D{2},
      L.Flatten(),
      L.Dense{3, activation = 'softmax'},
    }
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy',
                  metrics = {'accuracy'}}
    local history = model:fit(x:slice(1, 500), labels:slice(1, 500),
                              {epochs = 2, batch_size = 32, verbose = 0, validation_split = 0.2})
    local loss, accuracy = model:evaluate(x:slice(501, 600), labels:slice(501, 600),
                                          {verbose = 0})
    return history.history, loss, accuracy, model:predict(x:slice(501, 600), {verbose = 0})
  end
  local history_u8, loss_u8, accuracy_u8, predictions_u8 = train(bytes)
  local history_f32, loss_f32, accuracy_f32, predictions_f32 = train(bytes:astype('float32'))
  for _, key in ipairs{'loss', 'accuracy', 'val_loss', 'val_accuracy'} do
    for epoch = 1, 2 do
      t.eq(history_u8[key][epoch], history_f32[key][epoch], key .. ' of epoch ' .. epoch)
    end
  end
  t.eq(loss_u8, loss_f32, 'test loss')
  t.eq(accuracy_u8, accuracy_f32, 'test accuracy')
  t.truthy(predictions_u8 == predictions_f32, 'the same predictions')
  t.eq(tostring(predictions_u8.shape), '(100, 3)')
  t.truthy(history_u8.loss[2] < history_u8.loss[1], 'training loss fell')
end)

t.test('fit casts other dtypes to float32, as Keras does', function()
  local function train(x)
    nn.random.seed(4)
    local model = nn.Sequential{L.Flatten{input_shape = {2, 2, 1}}, L.Dense{3}}
    model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
    return model:fit(x, nn.tensor{0, 1, 2, 1}, {epochs = 2, verbose = 0}).history.loss[2]
  end
  local values = {{{{1}, {2}}, {{3}, {4}}}, {{{0}, {1}}, {{0}, {1}}}, {{{5}, {0}}, {{2}, {2}}},
                  {{{1}, {1}}, {{1}, {1}}}}
  t.eq(train(nn.tensor(values, 'int32')), train(nn.tensor(values)), 'loss')
  t.eq(train(nn.tensor(values, 'uint8')), train(nn.tensor(values)), 'loss')
end)

os.remove(images_path)
os.remove(labels_path)
t.finish()
