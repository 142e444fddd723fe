-- A fit whose callback asks the keyboard questions while the live screen is up: after
-- epoch 1 with io.write + io.read('l'), after epoch 2 with print + io.stdin:read,
-- io.lines() and io.read('n'); an answer that starts with n stops training. Between the two, at batch 3
-- of epoch 2, it waits for the file GATE: the test looks at the screen that came back.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
local answers = {}
local library_read, library_method = io.read, getmetatable(io.stdin).__index.read
local asker = {}
local function answered(answer)
  answers[#answers + 1] = answer
  if answer:match('^n') then model.stop_training = true end
end
local gate = os.getenv('GATE')
function asker:on_epoch_begin(epoch) self.epoch = epoch end
function asker:on_train_batch_end(batch)
  if gate and self.epoch == 1 and batch == 2 then
    while not io.open(gate) do os.execute('sleep 0.05') end
  end
end
function asker:on_epoch_end(epoch)
  if epoch == 0 then
    io.write('go on after epoch 1? [y/n] ')
    answered(io.read('l'))
  elseif epoch == 1 then
    print('go on after epoch 2? [y/n]')
    answered(io.stdin:read('l'))
    io.write('and a last word: ')
    for line in io.lines() do answered(line) break end
    io.write('and a number: ')
    answered(tostring(io.read('n')))
  end
end
local history = model:fit(x, y, {epochs = 50, batch_size = 32, callbacks = {asker}})
print('ANSWERS ' .. table.concat(answers, ','))
data.report(model, history, x, y)
-- The wrappers are gone with the screen: io.read and file:read are the library's again.
print('READ RESTORED ' .. tostring(io.read == library_read and
                                  getmetatable(io.stdin).__index.read == library_method))
