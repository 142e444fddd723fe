-- A short fit (3 epochs) that, when GATE names a file, waits at batch 5 of epoch 2
-- until that file exists: the test reads the live screen there, mid-training. A pause
-- at batch 3 lets the screen's next throttled redraw happen before the wait.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
local gate = os.getenv('GATE')
local waiter = {}
function waiter:on_epoch_begin(epoch)
  self.epoch = epoch
  -- standard error, written while the screen is open, belongs in the record
  if epoch == 1 then io.stderr:write('a warning on standard error\n') end
end
function waiter:on_train_batch_end(batch)
  if gate and self.epoch == 1 and batch == 2 then os.execute('sleep 2.5') end
  if gate and self.epoch == 1 and batch == 4 then
    while not io.open(gate) do os.execute('sleep 0.05') end
  end
end
local history = model:fit(x, y, {epochs = 3, batch_size = 32, validation_split = 0.25,
                                  callbacks = {waiter}})
data.report(model, history, x, y)
print('view problem: ' .. tostring(nn._plots.last_view_problem()))
