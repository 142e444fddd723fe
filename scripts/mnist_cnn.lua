-- The seed tutorial's full example: a small CNN on MNIST, in nnsh.
--   nnsh scripts/mnist_cnn.lua [--epochs N] [--valid] [--seed N]
-- --valid uses Keras' default padding ('valid') as the seed's code literally does; by
-- default the model uses padding='same', which is what the seed's printed summary shows.
local epochs, padding, seed = 5, 'same', 1
local i = 1
while arg and arg[i] do
  if arg[i] == '--epochs' then epochs = math.tointeger(tonumber(arg[i + 1])); i = i + 1
  elseif arg[i] == '--valid' then padding = 'valid'
  elseif arg[i] == '--seed' then seed = math.tointeger(tonumber(arg[i + 1])); i = i + 1
  else error('unknown argument ' .. arg[i] .. ' (expected --epochs N, --valid, --seed N)') end
  i = i + 1
end
nn.random.seed(seed)

-- 1. Load the data set
local x_train, y_train, x_test, y_test = nn.datasets.mnist.load_data()

-- 2. Preprocess: (N, 28, 28, 1) floats in [0, 1]
x_train = x_train:reshape(-1, 28, 28, 1):astype('float32') / 255
x_test = x_test:reshape(-1, 28, 28, 1):astype('float32') / 255
print('training set shape: ' .. tostring(x_train.shape))
print('test set shape:     ' .. tostring(x_test.shape))

-- 3. Build the CNN
local L = nn.layers
local model = nn.Sequential{
  -- first convolution block
  L.Conv2D{32, {3, 3}, activation = 'relu', padding = padding, input_shape = {28, 28, 1}},
  L.MaxPooling2D{{2, 2}},
  -- second convolution block
  L.Conv2D{64, {3, 3}, activation = 'relu', padding = padding},
  L.MaxPooling2D{{2, 2}},
  -- flatten and classify
  L.Flatten(),
  L.Dense{128, activation = 'relu'},
  L.Dropout{0.5},
  L.Dense{10, activation = 'softmax'},
}

-- 4. Show the model
model:summary()

-- 5. Compile
model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}

-- 6. Train
local history = model:fit(x_train, y_train, {epochs = epochs, batch_size = 64,
                                             validation_split = 0.2, verbose = 1})

-- 7. Evaluate
local test_loss, test_acc = model:evaluate(x_test, y_test, {verbose = 0})
print(string.format('\ntest accuracy: %.4f', test_acc))

-- 8. Predict the first five test images
local predictions = model:predict(x_test:slice(1, 5))
local predicted = predictions:argmax(-1)
local function list(t)
  local values = {}
  for k = 1, #t do values[k] = tostring(t[k]) end
  return '[' .. table.concat(values, ' ') .. ']'
end
print('predicted classes of the first 5: ' .. list(predicted))
print('true labels of the first 5:       ' .. list(y_test:slice(1, 5)))

-- 9. The training curves
print(history)
if history.plot then history:plot() end
