-- A fit that would run for a long time (FIT_EPOCHS, 100000 by default): the test pauses,
-- resumes and stops it with keys, then checks the model and the partial history.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
local epochs = tonumber(os.getenv('FIT_EPOCHS') or '100000')
local history = model:fit(x, y, {epochs = epochs, batch_size = 16, validation_split = 0.25})
data.report(model, history, x, y)
