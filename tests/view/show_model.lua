-- Prints what a lesson shows: the summary, the training curves and the network flow;
-- with OUT_DIR set it also writes the figures to files there.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
model:summary()
local history = model:fit(x, y, {epochs = 4, batch_size = 32, validation_split = 0.25,
                                  verbose = 0})
history:plot{height = 12}
model:plot()
local out = os.getenv('OUT_DIR')
if out then
  print(history:plot{file = out .. '/curves.svg'})
  print(history:plot{file = out .. '/curves.txt'})
  print(model:plot{file = out .. '/model.svg'})
  if nn._plots.terminal().png then print(history:plot{file = out .. '/curves.png'}) end
end
print('SHOWN')
