-- Two short epochs with FIT_VERBOSE (1 by default), for the plain-output tests.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
local verbose = tonumber(os.getenv('FIT_VERBOSE') or '1')
local history = model:fit(x, y, {epochs = 2, batch_size = 32, validation_split = 0.25,
                                  verbose = verbose})
data.report(model, history, x, y)
print('view problem: ' .. tostring(nn._plots.last_view_problem()))
