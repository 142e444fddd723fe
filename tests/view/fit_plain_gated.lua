-- A one-epoch fit that stops twice on its way, so a test can look at the running
-- progress line: after batch 10 it writes the file HELD and waits until GATE exists,
-- after batch 20 it writes HELD_AGAIN and waits for GATE_AGAIN. Each batch lasts over
-- 0.1 s, the bar's redraw interval, so every batch is drawn. Run with NNSH_LIVE=0.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()

local function hold(signal, gate)
  local file = assert(io.open(signal, 'w'))
  file:close()
  while not io.open(gate) do os.execute('sleep 0.05') end
end

local holder = {}
function holder:on_train_batch_end(batch)
  local start = nn.time()
  while nn.time() - start < 0.12 do end
  if batch == 9 then hold(os.getenv('HELD'), os.getenv('GATE')) end
  if batch == 19 then hold(os.getenv('HELD_AGAIN'), os.getenv('GATE_AGAIN')) end
end

model:fit(x, y, {epochs = 1, batch_size = 16, callbacks = {holder}})
print('DONE')
