-- evaluate and predict with their default verbose=1, then a two-epoch fit, each after a
-- marker line: on a terminal without the live view each pass ends with one final line.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
print('EVALUATE')
model:evaluate(x, y)
print('PREDICT')
model:predict(x)
print('FIT')
model:fit(x, y, {epochs = 2, batch_size = 32, validation_split = 0.25})
print('DONE')
