-- A fit whose validation set (VAL_ROWS rows) is much larger than its training part
-- (FIT_ROWS rows), so that each validation lasts a while. A callback holds every
-- training batch 20 ms, so training runs at a known speed; the script measures that
-- speed and the validations, and at the first batch of epoch 4 writes them to the file
-- MEASURED ("rate=<steps/s> validation=<mean seconds>") and waits until GATE exists.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
nn.random.seed(5)
local val_x = nn.random.randn(tonumber(os.getenv('VAL_ROWS') or '200000'), 16)
local val_y = (val_x * nn.random.randn(16)):sum(1):gt(0)
local measured, gate = os.getenv('MEASURED'), os.getenv('GATE')

local timer = {steps = 0, training = 0, validation = 0, validations = 0}
function timer:on_epoch_begin(epoch) self.epoch = epoch end
function timer:on_train_batch_begin(batch)
  if batch == 0 then self.first_begin = nn.time() end
end
function timer:on_train_batch_end(batch)
  local start = nn.time()
  while nn.time() - start < 0.02 do end
  self.steps = self.steps + 1
  self.last_end = nn.time()
  if self.epoch == 3 and batch == 0 and measured then
    local file = assert(io.open(measured .. '.part', 'w'))
    file:write(string.format('rate=%.3f validation=%.3f\n',
                             (self.steps - 1) / self.training,
                             self.validation / self.validations))
    file:close()
    os.rename(measured .. '.part', measured)
    while gate and not io.open(gate) do os.execute('sleep 0.05') end
  end
end
function timer:on_epoch_end()
  self.training = self.training + (self.last_end - self.first_begin)
  self.validation = self.validation + (nn.time() - self.last_end)
  self.validations = self.validations + 1
end

local history = model:fit(x, y, {epochs = 4, batch_size = 64, validation_data = {val_x, val_y},
                                  callbacks = {timer}})
data.report(model, history, x, y)
print('view problem: ' .. tostring(nn._plots.last_view_problem()))
