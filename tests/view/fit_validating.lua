-- A fit whose validation lasts several times longer than its training. A callback holds
-- every training batch until 25 ms after it began, so training runs at a known, steady
-- speed (40 steps/s) whatever else the machine runs, as long as a batch computes in less;
-- the batches are small (FIT_ROWS rows, 16 a batch) for that to hold in a sanitizer
-- build. The validation set is sized to take about VALIDATION_SECONDS (default 2): its
-- rows are counted from a timed evaluation of a sample, since a sanitizer build validates
-- some twenty times slower than a release build. The script measures the training speed
-- and the validations, and at the first batch of epoch 4 writes them to the file MEASURED
-- ("rate=<steps/s> slowest=<steps/s> fastest=<steps/s> validation=<mean seconds>": the
-- training speed over epochs 1 to 3 and that of their slowest and fastest epoch) and
-- waits until GATE exists.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
nn.random.seed(5)
local function labelled(rows)
  local features = nn.random.randn(rows, 16)
  return features, (features * nn.random.randn(16)):sum(1):gt(0)
end

local val_batch_size = 256
local sample_x, sample_y = labelled(10000)
local seconds_per_row
for _ = 1, 2 do -- the first evaluation also pays for its allocations
  local start = nn.time()
  model:evaluate(sample_x, sample_y, {batch_size = val_batch_size, verbose = 0})
  seconds_per_row = (nn.time() - start) / 10000
end
local target = tonumber(os.getenv('VALIDATION_SECONDS') or '2')
local val_x, val_y = labelled(math.max(10000, math.min(1000000, math.floor(target / seconds_per_row))))
local measured, gate = os.getenv('MEASURED'), os.getenv('GATE')

local timer = {steps = 0, training = 0, validation = 0, validations = 0}
function timer:on_epoch_begin(epoch) self.epoch = epoch end
function timer:on_train_batch_begin(batch)
  self.batch_begin = nn.time()
  if batch == 0 then self.first_begin = self.batch_begin end
end
function timer:on_train_batch_end(batch)
  self.batches = batch + 1
  while nn.time() - self.batch_begin < 0.025 do end
  self.steps = self.steps + 1
  self.last_end = nn.time()
  if self.epoch == 3 and batch == 0 and measured then
    local steps = self.steps - 1
    local file = assert(io.open(measured .. '.part', 'w'))
    file:write(string.format('rate=%.3f slowest=%.3f fastest=%.3f validation=%.3f\n',
                             steps / self.training, self.slowest, self.fastest,
                             self.validation / self.validations))
    file:close()
    os.rename(measured .. '.part', measured)
    while gate and not io.open(gate) do os.execute('sleep 0.05') end
  end
end
function timer:on_epoch_end()
  local training = self.last_end - self.first_begin
  self.training = self.training + training
  self.slowest = math.min(self.slowest or math.huge, self.batches / training)
  self.fastest = math.max(self.fastest or 0, self.batches / training)
  self.validation = self.validation + (nn.time() - self.last_end)
  self.validations = self.validations + 1
end

local history = model:fit(x, y, {epochs = 4, batch_size = 16, validation_data = {val_x, val_y},
                                  validation_batch_size = val_batch_size, callbacks = {timer}})
data.report(model, history, x, y)
print('view problem: ' .. tostring(nn._plots.last_view_problem()))
