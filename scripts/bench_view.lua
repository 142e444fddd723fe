-- The workload of scripts/bench_view.sh: a Dense classifier on synthetic data, the same
-- every run (fixed seed). BENCH_VERBOSE picks fit's verbose; BENCH_ROWS, BENCH_UNITS and
-- BENCH_EPOCHS size it.
local L = nn.layers
nn.random.seed(11)
local rows = tonumber(os.getenv('BENCH_ROWS') or '60000')
local units = tonumber(os.getenv('BENCH_UNITS') or '256')
local x = nn.random.randn(rows, 64)
local y = (x * nn.random.randn(64)):sum(1):gt(0)
local model = nn.Sequential{L.Dense{units, activation = 'relu', input_shape = {64}},
                            L.Dense{units, activation = 'relu'},
                            L.Dense{2, activation = 'softmax'}, name = 'bench'}
model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.05},
              loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
model:fit(x, y, {epochs = tonumber(os.getenv('BENCH_EPOCHS') or '3'), batch_size = 32,
                 validation_split = 0.2, verbose = tonumber(os.getenv('BENCH_VERBOSE') or '0')})
