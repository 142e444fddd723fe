-- Many short epochs without validation, for a test that stops the process (SIGSTOP) in
-- the middle of them: the epoch lines must not count the time stopped.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
local history = model:fit(x, y, {epochs = tonumber(os.getenv('FIT_EPOCHS') or '40'), batch_size = 16})
data.report(model, history, x, y)
