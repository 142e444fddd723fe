-- Shared by the view tests: a small, separable two-class problem and a Dense model.
-- FIT_ROWS, FIT_WIDTH (units of the hidden layer) and FIT_EPOCHS size the run.
local L = nn.layers
local data = {}

function data.problem()
  nn.random.seed(3)
  local rows = tonumber(os.getenv('FIT_ROWS') or '1024')
  local x = nn.random.randn(rows, 16)
  local y = (x * nn.random.randn(16)):sum(1):gt(0)
  return x, y
end

function data.model()
  local width = tonumber(os.getenv('FIT_WIDTH') or '16')
  local model = nn.Sequential{L.Dense{width, activation = 'relu', input_shape = {16}},
                              L.Dense{2, activation = 'softmax'}, name = 'viewtest'}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  return model
end

-- Checks that a (possibly stopped) model still works and says so in one line.
function data.report(model, history, x, y)
  local loss, accuracy = model:evaluate(x, y, {verbose = 0})
  local predictions = model:predict(x:slice(1, 5), {verbose = 0})
  local sums_ok = true
  for _, row in ipairs(predictions:tolist()) do
    if math.abs(row[1] + row[2] - 1) > 1e-4 then sums_ok = false end
  end
  local usable = loss == loss and accuracy >= 0 and accuracy <= 1 and sums_ok
  print(string.format('RESULT epochs=%d history=%d usable=%s accuracy=%.3f', #history.epoch,
                      #history.history.loss, tostring(usable), accuracy))
end

return data
