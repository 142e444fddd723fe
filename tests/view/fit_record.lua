-- A two-epoch fit whose record outgrows the terminal's buffer: the end of training
-- prints RECORD_LINES (2000) long lines, which the live screen keeps for its record.
-- When GATE names a file, epoch 2 waits until that file exists: the test stops tmux
-- there, so that the record is written to a terminal nobody reads.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
local gate = os.getenv('GATE')
local lines = tonumber(os.getenv('RECORD_LINES') or '2000')
local hooks = {}
function hooks:on_epoch_begin(epoch)
  while gate and epoch == 1 and not io.open(gate) do os.execute('sleep 0.05') end
end
function hooks:on_train_end()
  for i = 1, lines do print(string.format('record line %04d %s', i, string.rep('.', 80))) end
end
local history = model:fit(x, y, {epochs = 2, batch_size = 32, validation_split = 0.25,
                                  callbacks = {hooks}})
data.report(model, history, x, y)
