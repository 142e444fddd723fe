-- The benchmark's report: medians of every figure, ratios against PyTorch and the
-- targets of issue 8. Run by scripts/bench.sh:
--   nnsh scripts/bench/summary.lua RESULTS CPU CORES OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
-- RESULTS holds lines `<who> <figure> <value>`, who being nnsh, torch (as installed),
-- torch1 (OPENBLAS_NUM_THREADS=1), nnsh_bytes / torch_bytes (uint8 images scaled per
-- batch), sgemm, or sgemm_default / sgemm_haswell (the other OPENBLAS_CORETYPE setting).
local path, cpu, cores, coretype, l2 = arg[1], arg[2], arg[3], arg[4], arg[5]

local data = {}
for line in io.lines(path) do
  local who, name, value = line:match('^(%S+)%s+(%S+)%s+(.*)$')
  if who then
    data[who] = data[who] or {}
    data[who][name] = data[who][name] or {}
    table.insert(data[who][name], tonumber(value) or value)
  end
end

local function values(who, name) return data[who] and data[who][name] or {} end

local function median(who, name)
  local list = {}
  for _, v in ipairs(values(who, name)) do
    if type(v) == 'number' then list[#list + 1] = v end
  end
  if #list == 0 then return nil end
  table.sort(list)
  local middle = (#list + 1) // 2
  return #list % 2 == 1 and list[middle] or (list[middle] + list[middle + 1]) / 2
end

local function largest(who, name)
  local best
  for _, v in ipairs(values(who, name)) do
    if type(v) == 'number' and (not best or v > best) then best = v end
  end
  return best
end

local function smallest(who, name)
  local best
  for _, v in ipairs(values(who, name)) do
    if type(v) == 'number' and (not best or v < best) then best = v end
  end
  return best
end

local function first(who, name) return values(who, name)[1] end

local function all(who, name)
  local text = {}
  for _, v in ipairs(values(who, name)) do text[#text + 1] = tostring(v) end
  return table.concat(text, ' ')
end

local function fmt(value, format)
  if value == nil then return '-' end
  return string.format(format or '%.1f', value)
end

local function ratio(a, b)
  if not a or not b or b == 0 then return nil end
  return a / b
end

local torch = data.torch ~= nil
local rows = {}
local function row(label, nnsh, torch_default, torch_best, vs_default, vs_best, target)
  rows[#rows + 1] = {label, nnsh or '', torch_default or '', torch_best or '',
                     vs_default or '', vs_best or '', target or ''}
end
local function times(x) return x and string.format('%.2fx', x) or '-' end
-- '  met' or '  MISSED' when every figure the target needs was measured, else ''.
local function verdict(measured, ok)
  if not measured then return '' end
  return ok and '  met' or '  MISSED'
end

-- training
local step = {median('nnsh', 'train_ms_per_step'), median('torch', 'train_ms_per_step'),
              median('torch1', 'train_ms_per_step')}
local flop_per_sample = first('nnsh', 'train_flop_per_sample') or 0
local batch = 64
local train_vs_default = ratio(step[2], step[1])
local train_vs_best = ratio(step[3], step[1])
row('training step (ms, median)', fmt(step[1], '%.2f'), fmt(step[2], '%.2f'), fmt(step[3], '%.2f'),
    times(train_vs_default), times(train_vs_best),
    '>= 2.5x, >= 1.5x' .. verdict(train_vs_default and train_vs_best,
                                  train_vs_default and train_vs_best and
                                  train_vs_default >= 2.5 and train_vs_best >= 1.5))
local function per_second(ms) return ms and batch * 1000 / ms end
row('  samples/s', fmt(per_second(step[1]), '%.0f'), fmt(per_second(step[2]), '%.0f'),
    fmt(per_second(step[3]), '%.0f'))
local function gflops(ms) return ms and flop_per_sample * batch / (ms * 1e6) end
row(string.format('  GFLOP/s (%.1f MFLOP/sample)', flop_per_sample / 1e6), fmt(gflops(step[1])),
    fmt(gflops(step[2])), fmt(gflops(step[3])))

-- one epoch with validation
local epoch = {median('nnsh', 'epoch_s'), median('torch', 'epoch_s'), median('torch1', 'epoch_s')}
local epoch_flop = first('nnsh', 'epoch_flop')
local sgemm = median('sgemm', 'sgemm_gflops')
local floor = epoch_flop and sgemm and epoch_flop / (sgemm * 1e9)
row('epoch with validation (s)', fmt(epoch[1], '%.2f'), fmt(epoch[2], '%.2f'),
    fmt(epoch[3], '%.2f'),
    times(ratio(epoch[2], epoch[1])), times(ratio(epoch[3], epoch[1])))
local fastest = {smallest('nnsh', 'epoch_s'), smallest('torch', 'epoch_s'),
                 smallest('torch1', 'epoch_s')}
row('  fastest run (s; other programs slow some)', fmt(fastest[1], '%.2f'), fmt(fastest[2], '%.2f'),
    fmt(fastest[3], '%.2f'), times(ratio(fastest[2], fastest[1])),
    times(ratio(fastest[3], fastest[1])))
row(string.format('  median / sgemm floor (%s s)', fmt(floor, '%.2f')),
    times(ratio(epoch[1], floor)),
    times(ratio(epoch[2], floor)), times(ratio(epoch[3], floor)), '', '',
    '<= 2x' .. verdict(epoch[1] and floor, epoch[1] and floor and epoch[1] <= 2 * floor))
local function epoch_gflops(s) return s and epoch_flop and epoch_flop / (s * 1e9) end
row(string.format('  GFLOP/s (%.2f TFLOP/epoch)', (epoch_flop or 0) / 1e12),
    fmt(epoch_gflops(epoch[1])), fmt(epoch_gflops(epoch[2])), fmt(epoch_gflops(epoch[3])))
row('  validation accuracy', fmt(median('nnsh', 'val_accuracy'), '%.4f'),
    fmt(median('torch', 'val_accuracy'), '%.4f'), fmt(median('torch1', 'val_accuracy'), '%.4f'))

-- inference
local infer = {median('nnsh', 'infer_images_per_s'), median('torch', 'infer_images_per_s'),
               median('torch1', 'infer_images_per_s')}
local infer_vs_default = ratio(infer[1], infer[2])
row('inference (images/s, median)', fmt(infer[1], '%.0f'), fmt(infer[2], '%.0f'),
    fmt(infer[3], '%.0f'), times(infer_vs_default), times(ratio(infer[1], infer[3])),
    '>= 2.5x' .. verdict(infer_vs_default, infer_vs_default and infer_vs_default >= 2.5))
local infer_flop = first('nnsh', 'infer_flop_per_sample') or 0
local function infer_gflops(per_s) return per_s and per_s * infer_flop / 1e9 end
row('  GFLOP/s', fmt(infer_gflops(infer[1])), fmt(infer_gflops(infer[2])),
    fmt(infer_gflops(infer[3])))

-- memory and start-up
local peak = {largest('nnsh', 'peak_rss_mb'), largest('torch', 'peak_rss_mb'),
              largest('torch1', 'peak_rss_mb')}
local memory_share = ratio(peak[1], peak[2])
row('peak resident memory (MB)', fmt(peak[1], '%.0f'), fmt(peak[2], '%.0f'), fmt(peak[3], '%.0f'),
    memory_share and string.format('%.2f of it', memory_share) or '-', '',
    '<= 0.50 of it' .. verdict(memory_share, memory_share and memory_share <= 0.5))
-- The seed's x:astype('float32') / 255 holds the bytes and two float copies at once in
-- either program; kept as bytes, the images cost a quarter of one float copy.
local bytes_peak = {largest('nnsh_bytes', 'peak_rss_mb'), largest('torch_bytes', 'peak_rss_mb')}
local bytes_share = ratio(bytes_peak[1], bytes_peak[2])
row('  images kept as uint8, scaled per batch', fmt(bytes_peak[1], '%.0f'),
    fmt(bytes_peak[2], '%.0f'), '',
    bytes_share and string.format('%.2f of it', bytes_share) or '-', '',
    '<= 0.50 of it' .. verdict(bytes_share, bytes_share and bytes_share <= 0.5))
local bytes_epoch = {median('nnsh_bytes', 'epoch_s'), median('torch_bytes', 'epoch_s')}
row('    its epoch with validation (s)', fmt(bytes_epoch[1], '%.2f'), fmt(bytes_epoch[2], '%.2f'),
    '', times(ratio(bytes_epoch[2], bytes_epoch[1])))
local train_peak = {largest('nnsh', 'train_peak_rss_mb'), largest('torch', 'train_peak_rss_mb'),
                    largest('torch1', 'train_peak_rss_mb')}
local train_share = ratio(train_peak[1], train_peak[2])
row('  during the epoch alone', fmt(train_peak[1], '%.0f'), fmt(train_peak[2], '%.0f'),
    fmt(train_peak[3], '%.0f'), train_share and string.format('%.2f of it', train_share) or '-')
local startup = median('nnsh', 'startup_ms')
row('start-up (ms; torch: import)', fmt(startup, '%.1f'),
    fmt(median('torch', 'startup_ms'), '%.0f'),
    '', '', '', '< 20 ms' .. verdict(startup, startup and startup < 20))
local accuracies = values('nnsh', 'test_accuracy')
local accuracy
if #accuracies > 0 then
  accuracy = 0
  for _, a in ipairs(accuracies) do accuracy = accuracy + a end
  accuracy = accuracy / #accuracies
end
row(string.format('test accuracy, 5 epochs (mean of %d seeds)', #accuracies), fmt(accuracy, '%.4f'),
    '', '', '', '', '>= 0.99' .. verdict(accuracy, accuracy and accuracy >= 0.99))

print('nnsh benchmark: the seed CNN (SPEC section 3), batch 64')
print(string.format('machine: %s, %s cores; OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s',
                    cpu, cores, coretype, l2))
print(string.format('OpenBLAS core in use: %s (nnsh, %s threads); PyTorch: %s; '
                    .. 'nnsh vector kernels: %s',
                    first('nnsh', 'openblas_core') or '?',
                    tostring(first('nnsh', 'openblas_threads')),
                    first('torch', 'openblas_core') or '-', first('nnsh', 'simd') or '?'))
print(string.format('sgemm rate (2048^3, %s threads, core %s): %s GFLOP/s; '
                    .. 'as the seed\'s conv2 GEMM (12544x64x288): %s GFLOP/s',
                    tostring(first('sgemm', 'sgemm_threads')), first('sgemm', 'sgemm_core') or '?',
                    fmt(sgemm), fmt(median('sgemm', 'sgemm_conv2_gflops'))))
for _, other in ipairs{'sgemm_default', 'sgemm_haswell'} do
  if data[other] then
    print(string.format('  with OPENBLAS_CORETYPE %s (core %s): %s GFLOP/s; conv2 GEMM %s GFLOP/s',
                        other == 'sgemm_default' and 'unset' or '=Haswell',
                        first(other, 'sgemm_core') or '?', fmt(median(other, 'sgemm_gflops')),
                        fmt(median(other, 'sgemm_conv2_gflops'))))
  end
end
if torch then
  print(string.format('PyTorch %s intra-op threads; columns: torch = as installed, torch(1) = '
                      .. 'OPENBLAS_NUM_THREADS=1', tostring(first('torch', 'torch_threads'))))
else
  print('PyTorch not measured (no python3-torch): ratios left out')
end
print(string.format('runs: %d alternations of training steps + inference, '
                    .. 'then %d of one epoch each',
                    #values('nnsh', 'train_ms_per_step'), #values('nnsh', 'epoch_s')))
print()
local header = {'', 'nnsh', 'torch', 'torch(1)', 'nnsh vs torch', 'vs torch(1)', 'target'}
local widths = {}
for c = 1, #header do
  widths[c] = #header[c]
  for _, r in ipairs(rows) do widths[c] = math.max(widths[c], #tostring(r[c])) end
end
local function line(cells)
  local out = {}
  for c = 1, #cells do
    local cell = tostring(cells[c])
    out[c] = c == 1 and cell .. string.rep(' ', widths[c] - #cell)
                     or string.rep(' ', widths[c] - #cell) .. cell
  end
  print((table.concat(out, '  '):gsub('%s+$', '')))
end
line(header)
for _, r in ipairs(rows) do line(r) end
print()
print('every run (nnsh / torch / torch(1)):')
for _, name in ipairs{'train_ms_per_step', 'infer_images_per_s', 'epoch_s', 'peak_rss_mb',
                      'train_peak_rss_mb'} do
  print(string.format('  %-20s %s / %s / %s', name, all('nnsh', name), all('torch', name),
                      all('torch1', name)))
end
print(string.format('  %-20s %s / %s', 'uint8 peak_rss_mb', all('nnsh_bytes', 'peak_rss_mb'),
                    all('torch_bytes', 'peak_rss_mb')))
print(string.format('  %-20s %s / %s', 'uint8 epoch_s', all('nnsh_bytes', 'epoch_s'),
                    all('torch_bytes', 'epoch_s')))
print(string.format('  %-20s %s', 'nnsh startup_ms', all('nnsh', 'startup_ms')))
print(string.format('  %-20s %s (seeds 1, 2, 3)', 'nnsh test_accuracy',
                    all('nnsh', 'test_accuracy')))
if first('nnsh', 'first_predictions') then
  print(string.format('  first five test predictions (nnsh, seed 1): %s',
                      first('nnsh', 'first_predictions')))
end
