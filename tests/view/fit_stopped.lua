-- Short epochs for a test that stops the process (SIGSTOP) in the middle of them: the
-- epoch lines must not count the time stopped. FIT_VALIDATION_ROWS > 0 adds that many
-- rows of validation_data, so that a stop can come while validating.
local data = require 'fit_data'
local x, y = data.problem()
local model = data.model()
local options = {epochs = tonumber(os.getenv('FIT_EPOCHS') or '40'), batch_size = 16}
local validation_rows = tonumber(os.getenv('FIT_VALIDATION_ROWS') or '0')
if validation_rows > 0 then
  local vx = nn.random.randn(validation_rows, 16)
  options.validation_data = {vx, (vx * nn.random.randn(16)):sum(1):gt(0)}
  options.validation_batch_size = 4096
end
local history = model:fit(x, y, options)
data.report(model, history, x, y)
