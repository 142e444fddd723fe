#!/usr/bin/env python3
"""Fault tests with real processes: nnsh killed (SIGKILL) in the middle of a save leaves the
old file loadable and the next save cleans up; a save into a full or read-only file system
fails cleanly with the old file intact; a BackupAndRestore run killed mid-training (or
mid-backup) and started again ends with the same weights, bit for bit, as an
uninterrupted run; Ctrl-C (SIGINT) stops fit at a batch boundary, ends the script with a
message saying where, keeps the backup, and the next run resumes to the same weights.
The full and read-only file systems are tmpfs mounts when run as root; otherwise the
write-failure hook and directory permissions stand in for them.
Environment: NNSH (the nnsh program), NNSH_TEST_TMP (a scratch directory)."""
import glob
import os
import shutil
import signal
import subprocess
import time
import unittest

NNSH = os.environ.get('NNSH', 'nnsh')
TMP = os.path.join(os.environ.get('NNSH_TEST_TMP', '/tmp'), 'faults-%d' % os.getpid())

SAVE = r'''
-- save.lua <path> <seed> <units>: a trained model, saved; prints its fingerprint.
local path, seed, units = arg[1], tonumber(arg[2]), tonumber(arg[3])
nn.random.seed(seed)
local model = nn.Sequential{nn.layers.Dense{units, activation = 'relu', input_shape = {64}},
                            nn.layers.Dense{10}}
model:compile{optimizer = {name = 'sgd', momentum = 0.9}, loss = 'sparse_categorical_crossentropy'}
local labels = {}
for i = 1, 8 do labels[i] = i % 10 end
model:fit(nn.random.randn(8, 64), nn.tensor(labels, 'int32'), {epochs = 1, verbose = 0})
local sum = 0
for _, w in ipairs(model:get_weights()) do
  for _, v in ipairs(w:flatten():tolist()) do sum = sum + v end
end
io.write(string.format('fingerprint %.17g\n', sum))
io.flush()
model:save(path)
io.write('saved\n')
'''

LOAD = r'''
-- load.lua <path>: loads a model and prints its fingerprint.
local model = nn.models.load_model(arg[1])
local sum = 0
for _, w in ipairs(model:get_weights()) do
  for _, v in ipairs(w:flatten():tolist()) do sum = sum + v end
end
io.write(string.format('fingerprint %.17g\n', sum))
'''

TRAIN = r'''
-- train.lua <backup_dir> <weights_out> <batch_delay_seconds> <hidden_units>
local backup_dir, weights_out = arg[1], arg[2]
local delay, hidden = tonumber(arg[3]), tonumber(arg[4])
local L = nn.layers
nn.random.seed(11)
local function available(name)
  local ok, err = pcall(function() L[name]()(nn.zeros(2, 4)) end)
  return ok or not tostring(err):find('not implemented yet', 1, true)
end
local layers = {L.Dense{hidden, activation = 'relu', input_shape = {16}}}
if available('Dropout') then layers[#layers + 1] = L.Dropout{0.3} end
layers[#layers + 1] = L.Dense{4, activation = 'softmax'}
local model = nn.Sequential(layers)
model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
if model.optimizer.name ~= 'adam' then
  model:compile{optimizer = {name = 'sgd', momentum = 0.9}, loss = 'sparse_categorical_crossentropy'}
end
local x = nn.random.randn(256, 16)
local labels = {}
for i = 1, 256 do labels[i] = (i * 7) % 4 end
local y = nn.tensor(labels, 'int32')
local function slow()
  local start = os.clock()
  while os.clock() - start < delay do end
end
model:fit(x, y, {epochs = 6, batch_size = 16, verbose = 0, callbacks = {
  nn.callbacks.BackupAndRestore{backup_dir},
  nn.callbacks.LambdaCallback{
    on_train_batch_end = delay > 0 and slow or nil,
    on_epoch_end = function(epoch) nn.io.write('epoch-end ', epoch + 1, '\n') end,
  },
}})
model:save_weights(weights_out)
nn.io.write('done\n')
'''



def write_script(name, text):
    path = os.path.join(TMP, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def nnsh(*args, env=None, timeout=120):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([NNSH] + list(args), capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def fingerprint(output):
    for line in output.splitlines():
        if line.startswith('fingerprint '):
            return line.split(' ', 1)[1]
    raise AssertionError('no fingerprint in: ' + output)


def temporaries(directory, name):
    return glob.glob(os.path.join(directory, '.%s.nnsh-tmp-*' % name))


def kill(process):
    """SIGKILL, then reap the process and close its pipes."""
    process.send_signal(signal.SIGKILL)
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.002)
    raise AssertionError('timed out waiting for ' + what)


class Mount:
    """A tmpfs at `path` while the block runs (root only); .ok says whether it mounted."""

    def __init__(self, path, options):
        self.path, self.options, self.ok = path, options, False

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        if os.geteuid() == 0:
            self.ok = subprocess.run(['mount', '-t', 'tmpfs', '-o', self.options, 'tmpfs',
                                      self.path], capture_output=True).returncode == 0
        return self

    def remount_read_only(self):
        subprocess.run(['mount', '-o', 'remount,ro', self.path], check=True)

    def __exit__(self, *exc):
        if self.ok:
            subprocess.run(['umount', '-l', self.path], capture_output=True)


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(TMP, exist_ok=True)
        cls.save = write_script('save.lua', SAVE)
        cls.load = write_script('load.lua', LOAD)
        cls.train_script = write_script('train.lua', TRAIN)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(TMP, ignore_errors=True)

    def save_ok(self, path, seed, units, env=None):
        run = nnsh(self.save, path, str(seed), str(units), env=env)
        self.assertEqual(run.returncode, 0, run.stderr)
        return fingerprint(run.stdout)

    def loads_as(self, path, expected):
        run = nnsh(self.load, path)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(fingerprint(run.stdout), expected, 'the file holds another model')

    def test_sigkill_in_the_middle_of_a_save_leaves_the_old_file_loadable(self):
        directory = os.path.join(TMP, 'kill-save')
        os.makedirs(directory)
        path = os.path.join(directory, 'model.safetensors')
        old = self.save_ok(path, 1, 16)
        # A big model written slowly (4 KiB chunks, 5 ms apart): killed once half-written.
        env = dict(os.environ, NNSH_TEST_WRITE_DELAY_MS='5')
        process = subprocess.Popen([NNSH, self.save, path, '2', '2000'], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        temp = lambda: [t for t in temporaries(directory, 'model.safetensors')
                        if os.path.getsize(t) > 64 * 1024]
        wait_for(temp, 60, 'the temporary file to grow')
        kill(process)
        self.assertEqual(process.returncode, -signal.SIGKILL)
        self.assertTrue(temporaries(directory, 'model.safetensors'), 'the half file is left')
        self.loads_as(path, old)
        # The next save removes the dead writer's temporary file.
        new = self.save_ok(path, 3, 16)
        self.loads_as(path, new)
        self.assertEqual(temporaries(directory, 'model.safetensors'), [], 'stale file removed')

    def test_a_save_into_a_full_file_system_fails_cleanly(self):
        with Mount(os.path.join(TMP, 'full'), 'size=256k') as mount:
            path = os.path.join(mount.path, 'model.safetensors')
            old = self.save_ok(path, 1, 16)
            env = None if mount.ok else {'NNSH_TEST_WRITE_FAIL': 'ENOSPC'}
            run = nnsh(self.save, path, '2', '2000', env=env)
            self.assertEqual(run.returncode, 1, 'the save must fail: ' + run.stdout)
            for fragment in ('model:save', path, 'No space left on device', 'the disk is full',
                             'the previous file is unchanged'):
                self.assertIn(fragment, run.stderr)
            self.loads_as(path, old)
            self.assertEqual(temporaries(mount.path, 'model.safetensors'), [])
            if not mount.ok:
                print('(no tmpfs: the disk-full hook stood in)')

    def test_an_idx_save_into_a_full_file_system_keeps_the_old_file(self):
        with Mount(os.path.join(TMP, 'full-idx'), 'size=256k') as mount:
            for name in ('data.idx', 'data.idx.gz'):
                path = os.path.join(mount.path, name)
                small = write_script('idx_small.lua',
                                     "nn.datasets.save_idx(nn.arange(10):astype('int32'), arg[1])")
                # random floats, which gzip cannot shrink below the 256 KiB of the disk
                large = write_script('idx_large.lua',
                                     "nn.datasets.save_idx(nn.random.uniform(400000), arg[1])")
                run = nnsh(small, path)
                self.assertEqual(run.returncode, 0, run.stderr)
                env = None if mount.ok else {'NNSH_TEST_WRITE_FAIL': 'ENOSPC'}
                run = nnsh(large, path, env=env)
                self.assertEqual(run.returncode, 1, 'the save must fail: ' + run.stdout)
                for fragment in ('nn.datasets.save_idx', 'No space left on device',
                                 'the previous file is unchanged'):
                    self.assertIn(fragment, run.stderr)
                check = write_script('idx_check.lua',
                                     "local t = nn.datasets.load_idx(arg[1]); "
                                     "io.write(tostring(t.shape), ' ', t:sum(), '\\n')")
                run = nnsh(check, path)
                self.assertEqual(run.stdout, '(10,) 45\n', run.stderr)
                self.assertEqual(temporaries(mount.path, name), [])

    def test_a_new_file_on_a_full_file_system_names_the_full_disk(self):
        # The reason must survive the check for an existing file (stat sets errno too).
        with Mount(os.path.join(TMP, 'full-new'), 'size=256k') as mount:
            path = os.path.join(mount.path, 'new.safetensors')
            env = None if mount.ok else {'NNSH_TEST_WRITE_FAIL': 'ENOSPC'}
            run = nnsh(self.save, path, '2', '2000', env=env)
            self.assertEqual(run.returncode, 1, 'the save must fail: ' + run.stdout)
            for fragment in ('model:save', 'No space left on device', 'the disk is full',
                             'no file was written'):
                self.assertIn(fragment, run.stderr)
            self.assertNotIn('does not exist', run.stderr)
            self.assertFalse(os.path.exists(path))
            self.assertEqual(temporaries(mount.path, 'new.safetensors'), [])

    def test_a_save_into_a_read_only_location_fails_cleanly(self):
        with Mount(os.path.join(TMP, 'readonly'), 'size=1m') as mount:
            path = os.path.join(mount.path, 'model.safetensors')
            old = self.save_ok(path, 1, 16)
            if mount.ok:
                mount.remount_read_only()
                expected = ('Read-only file system', 'the file system is read-only')
            else:
                os.chmod(mount.path, 0o555)
                if os.access(mount.path, os.W_OK):
                    self.skipTest('neither a read-only mount nor permissions can stop root here')
                expected = ('Permission denied', 'no permission to write there')
            run = nnsh(self.save, path, '2', '16')
            self.assertEqual(run.returncode, 1)
            for fragment in expected + ('the previous file is unchanged',):
                self.assertIn(fragment, run.stderr)
            self.loads_as(path, old)
            if not mount.ok:
                os.chmod(mount.path, 0o755)

    def train(self, backup, weights, delay='0', hidden='32', env=None):
        return nnsh(self.train_script, backup, weights, delay, hidden, env=env)

    def read(self, path):
        with open(path, 'rb') as f:
            return f.read()

    def test_backup_and_restore_after_sigkill_ends_bit_identical(self):
        reference = os.path.join(TMP, 'reference.safetensors')
        run = self.train(os.path.join(TMP, 'backup-reference'), reference)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertNotIn('resuming', run.stdout)

        backup = os.path.join(TMP, 'backup-killed')
        resumed = os.path.join(TMP, 'resumed.safetensors')
        process = subprocess.Popen([NNSH, self.train_script, backup, resumed, '0.004', '32'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in process.stdout:
            if line.strip() == 'epoch-end 2':
                time.sleep(0.03)  # into the third epoch (16 batches of 4 ms)
                break
        kill(process)
        self.assertEqual(process.returncode, -signal.SIGKILL, 'killed before it finished')
        self.assertTrue(os.path.exists(os.path.join(backup, 'backup.safetensors')))

        run = self.train(backup, resumed)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn('BackupAndRestore: resuming after epoch', run.stdout)
        completed = int(run.stdout.split('resuming after epoch ')[1].split()[0])
        self.assertGreaterEqual(completed, 2)
        self.assertLess(completed, 6)
        self.assertTrue(self.read(reference) == self.read(resumed),
                        'the resumed run must end with the same weights, bit for bit')
        self.assertFalse(os.path.exists(os.path.join(backup, 'backup.safetensors')),
                         'the backup is deleted after training completes')

    def test_backup_and_restore_after_sigkill_during_a_backup_write(self):
        reference = os.path.join(TMP, 'reference-256.safetensors')
        run = self.train(os.path.join(TMP, 'backup-reference-256'), reference, hidden='256')
        self.assertEqual(run.returncode, 0, run.stderr)

        backup = os.path.join(TMP, 'backup-mid-write')
        resumed = os.path.join(TMP, 'resumed-256.safetensors')
        env = dict(os.environ, NNSH_TEST_WRITE_DELAY_MS='10')
        process = subprocess.Popen([NNSH, self.train_script, backup, resumed, '0', '256'], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Once a backup exists, kill while the next one is half-written.
        saved = os.path.join(backup, 'backup.safetensors')
        wait_for(lambda: os.path.exists(saved) and temporaries(backup, 'backup.safetensors'),
                 120, 'a second backup being written')
        kill(process)
        self.assertEqual(process.returncode, -signal.SIGKILL)
        self.assertTrue(temporaries(backup, 'backup.safetensors'), 'killed mid-write')

        run = self.train(backup, resumed, hidden='256')
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn('BackupAndRestore: resuming after epoch', run.stdout)
        self.assertTrue(self.read(reference) == self.read(resumed), 'bit-identical weights')

    def test_ctrl_c_ends_a_script_at_a_batch_boundary_and_the_run_resumes(self):
        reference = os.path.join(TMP, 'reference-ctrl-c.safetensors')
        run = self.train(os.path.join(TMP, 'backup-reference-ctrl-c'), reference)
        self.assertEqual(run.returncode, 0, run.stderr)

        backup = os.path.join(TMP, 'backup-ctrl-c')
        resumed = os.path.join(TMP, 'resumed-ctrl-c.safetensors')
        process = subprocess.Popen([NNSH, self.train_script, backup, resumed, '0.004', '32'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in process.stdout:
            if line.strip() == 'epoch-end 2':
                time.sleep(0.02)
                process.send_signal(signal.SIGINT)
                break
        rest, errors = process.communicate(timeout=60)
        process.stdout.close()
        process.stderr.close()
        # In a script, Ctrl-C ends the script with a message saying where training stopped
        # (in the shell, fit would return the history so far).
        self.assertEqual(process.returncode, 1, rest)
        self.assertIn('model:fit: interrupted: training stopped by the user at epoch', errors)
        self.assertIn(', batch ', errors)
        self.assertNotIn('done', rest)
        # The backup of the last completed epoch is kept, and the next run goes on from it.
        self.assertTrue(os.path.exists(os.path.join(backup, 'backup.safetensors')))
        run = self.train(backup, resumed)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn('BackupAndRestore: resuming after epoch', run.stdout)
        self.assertTrue(self.read(reference) == self.read(resumed), 'bit-identical weights')

    def test_ctrl_c_interrupts_a_callback_that_never_returns(self):
        # The first Ctrl-C asks for a stop at the next batch boundary, which a looping
        # callback never reaches; the second interrupts the callback's Lua code, and the
        # model stays usable.
        script = write_script('looping-callback.lua', """
local L = nn.layers
nn.random.seed(1)
local x, y = nn.random.randn(64, 4), nn.random.randint(0, 3, 64)
local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {4}}}
model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
local cb = nn.callbacks.LambdaCallback{on_epoch_end = function()
  print('looping'); io.stdout:flush()
  while true do end
end}
print(pcall(model.fit, model, x, y, {epochs = 2, verbose = 0, callbacks = {cb}}))
print('trains again', #model:fit(x, y, {epochs = 1, verbose = 0}).history.loss)
""")
        process = subprocess.Popen([NNSH, script], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.assertEqual(process.stdout.readline().strip(), 'looping')
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        self.assertIsNone(process.poll(), 'one Ctrl-C waits for the batch boundary')
        process.send_signal(signal.SIGINT)
        try:
            rest, errors = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            kill(process)
            self.fail('Ctrl-C did not stop the looping callback')
        self.assertEqual(process.returncode, 0, errors)
        self.assertIn('false\tinterrupted (Ctrl-C)', rest)
        self.assertIn('trains again\t1', rest)

if __name__ == '__main__':
    unittest.main()
