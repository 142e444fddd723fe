#!/usr/bin/env python3
"""Writes tests/io/corpus: malformed safetensors and nnsh model files, one problem each,
and EXPECTED, which maps each file to a fragment its rejection message must contain.

Files named st-* break a rule of the safetensors format itself (the reference reader's
rules, plus strict JSON); files named model-* are valid safetensors whose nnsh content is
wrong or hostile. Run it again after changing it; the output is deterministic.
Usage: tests/io/make_corpus.py [output directory]"""
import json
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')
EXPECTED = []


def write(name, data, fragment):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    EXPECTED.append((name, fragment))


def file_bytes(header, data=b'', length=None):
    """8-byte little-endian header length, the header text (str or bytes), the data."""
    if isinstance(header, str):
        header = header.encode('utf-8')
    if length is None:
        length = len(header)
    return struct.pack('<Q', length) + header + data


def tensors(*entries):
    """Header dict for (name, dtype, shape, begin, end) entries."""
    return {n: {'dtype': d, 'shape': s, 'data_offsets': [b, e]} for n, d, s, b, e in entries}


def st(name, header, data, fragment, length=None):
    text = header if isinstance(header, (str, bytes)) else json.dumps(header, separators=(',', ':'))
    write('st-' + name + '.safetensors', file_bytes(text, data, length), fragment)


# ---- the safetensors format ----
write('st-empty.safetensors', b'', 'too short')
write('st-seven-bytes.safetensors', b'\x10\0\0\0\0\0\0', 'too short')
st('header-length-zero', b'', b'', 'header is empty')
st('header-length-past-end', '{}', b'', 'runs past the end', length=1000)
st('header-length-huge', '{}', b'', 'runs past the end', length=1 << 62)
st('header-length-max', '{}', b'', 'runs past the end', length=(1 << 64) - 1)
st('header-length-one-short', '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b'\x05',
   'not valid JSON', length=len('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}') - 1)
st('not-json-object', '[1,2]', b'', "does not start with '{'")
st('leading-space', ' {}', b'', "does not start with '{'")
st('wrong-magic-zip', b'PK\x03\x04garbage', b'', "does not start with '{'")
st('invalid-utf8', b'{"\xff\xfe":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}', b'',
   'not valid UTF-8')
st('overlong-utf8', b'{"\xc0\xaf":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}', b'',
   'not valid UTF-8')
st('utf8-surrogate', b'{"\xed\xa0\x80":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}', b'',
   'not valid UTF-8')
st('utf8-truncated', b'{"a\xe2\x82":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}', b'',
   'not valid UTF-8')
st('control-character', b'{"a\x01":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}', b'',
   'control character')
st('nul-byte', b'{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}\x00', b'',
   'control character')
st('truncated-json', '{"a":{"dtype":"U8",', b'', 'not valid JSON')
st('trailing-text', '{} x', b'', 'after its JSON object')
st('nesting-bomb', '{"a":' + '[' * 2000 + ']' * 2000 + '}', b'', 'not valid JSON')
st('tensor-not-object', '{"a":5}', b'', 'must be an object')
st('missing-dtype', '{"a":{"shape":[1],"data_offsets":[0,1]}}', b'\0', 'lacks dtype')
st('missing-shape', '{"a":{"dtype":"U8","data_offsets":[0,1]}}', b'\0', 'lacks shape')
st('missing-offsets', '{"a":{"dtype":"U8","shape":[1]}}', b'\0', 'lacks data_offsets')
st('unknown-field', '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}', b'\0',
   "unknown field 'x'")
st('field-twice', '{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b'\0',
   "field 'dtype' twice")
st('unknown-dtype', tensors(('a', 'F128', [1], 0, 16)), b'\0' * 16, "unknown dtype 'F128'")
st('lowercase-dtype', tensors(('a', 'f32', [1], 0, 4)), b'\0' * 4, "unknown dtype 'f32'")
st('dtype-not-string', '{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', b'\0' * 4,
   'dtype must be a string')
st('negative-shape', tensors(('a', 'F32', [-1], 0, 4)), b'\0' * 4, 'non-negative integers')
st('fractional-shape', tensors(('a', 'F32', [1.5], 0, 4)), b'\0' * 4, 'non-negative integers')
st('string-shape', '{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}', b'\0' * 4,
   'non-negative integers')
st('shape-not-list', '{"a":{"dtype":"F32","shape":4,"data_offsets":[0,16]}}', b'\0' * 16,
   'shape must be a list')
st('nine-dimensions', tensors(('a', 'U8', [1] * 9, 0, 1)), b'\0', 'at most 8')
st('shape-beyond-2-53', '{"a":{"dtype":"U8","shape":[1e300],"data_offsets":[0,1]}}', b'\0',
   'non-negative integers')
st('shape-product-overflows', tensors(('a', 'F32', [1 << 40, 1 << 40, 1 << 40], 0, 4)), b'\0' * 4,
   'overflows')
st('shape-huge-count', tensors(('a', 'F32', [1 << 50], 0, 4)), b'\0' * 4,
   'needs 4503599627370496 bytes')
st('offsets-not-pair', '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}', b'\0',
   'must be a pair')
st('offsets-three', '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}', b'\0',
   'must be a pair')
st('offsets-reversed', tensors(('a', 'U8', [0], 4, 0)), b'\0' * 4, 'end before they begin')
st('offsets-negative', tensors(('a', 'U8', [1], -1, 0)), b'\0', 'non-negative integers')
st('offsets-size-mismatch', tensors(('a', 'F32', [2], 0, 4)), b'\0' * 4, 'needs 8 bytes')
st('offsets-past-end', tensors(('a', 'U8', [1000], 0, 1000)), b'\0' * 10, 'past the end of the data')
st('offsets-gap', tensors(('a', 'U8', [4], 4, 8)), b'\0' * 8, 'gaps')
st('offsets-overlap', tensors(('a', 'U8', [8], 0, 8), ('b', 'U8', [8], 4, 12)), b'\0' * 12,
   'overlapping')
st('trailing-data', tensors(('a', 'U8', [4], 0, 4)), b'\0' * 8, 'trailing bytes')
st('truncated-data', tensors(('a', 'U8', [4], 0, 4), ('b', 'U8', [4], 4, 8)), b'\0' * 6,
   'past the end of the data')
st('duplicate-names', '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
   '"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', b'\0' * 4, "'a' appears twice")
st('duplicate-names-escaped', '{"\\u0061":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
   '"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', b'\0' * 4, "'a' appears twice")
st('metadata-not-object', '{"__metadata__":[1]}', b'', '__metadata__ must be an object')
st('metadata-number', '{"__metadata__":{"a":1}}', b'', "entry 'a' must be a string")
st('metadata-twice', '{"__metadata__":{},"__metadata__":{}}', b'', '__metadata__ twice')
st('metadata-key-twice', '{"__metadata__":{"k":"1","k":"2"}}', b'', "key 'k' twice")

# ---- nnsh model files: valid safetensors, wrong or hostile content ----


def dense(name, units, input_shape=None, **config):
    entry = {'units': units, 'name': name}
    if input_shape is not None:
        entry['input_shape'] = input_shape
    entry.update(config)
    return {'class_name': 'Dense', 'config': entry}


def architecture(layers, build_input_shape=None, class_name='Sequential', **extra):
    value = {'class_name': class_name, 'config': {'name': 'sequential', 'layers': layers},
             'build_input_shape': build_input_shape}
    value.update(extra)
    return json.dumps(value, separators=(',', ':'))


def model_file(name, metadata, entries, fragment):
    """entries: (tensor name, dtype, shape, element size) laid out back to back."""
    header, offset, data = {}, 0, b''
    if metadata is not None:
        header['__metadata__'] = metadata
    for tensor, dtype, shape, size in entries:
        count = 1
        for dim in shape:
            count *= dim
        header[tensor] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + count * size]}
        offset += count * size
        data += b'\0' * (count * size)
    text = json.dumps(header, separators=(',', ':'))
    write('model-' + name + '.safetensors', file_bytes(text, data), fragment)


def meta(arch, **extra):
    value = {'nnsh.format': 'model', 'nnsh.format_version': '1', 'nnsh.architecture': arch}
    value.update(extra)
    return value


ONE_DENSE = architecture([dense('dense', 4, [3])])
ONE_DENSE_TENSORS = [('dense/kernel', 'F32', [3, 4], 4), ('dense/bias', 'F32', [4], 4)]

model_file('no-metadata', None, ONE_DENSE_TENSORS, 'not an nnsh model file')
model_file('weights-only', {'nnsh.format': 'weights', 'nnsh.format_version': '1'},
           ONE_DENSE_TENSORS, 'holds only weights')
model_file('future-version', meta(ONE_DENSE, **{'nnsh.format_version': '2'}), ONE_DENSE_TENSORS,
           "version '2'")
model_file('no-architecture', {'nnsh.format': 'model', 'nnsh.format_version': '1'},
           ONE_DENSE_TENSORS, 'has no nnsh.architecture')
model_file('architecture-not-json', meta('{"class_name": Sequential'), [], 'is not valid JSON')
model_file('architecture-trailing-text', meta(ONE_DENSE + ' extra'), ONE_DENSE_TENSORS,
           'text after its JSON value')
model_file('not-sequential', meta(architecture([dense('dense', 4, [3])], class_name='Functional')),
           ONE_DENSE_TENSORS, 'must be a Sequential')
model_file('unknown-layer-class',
           meta(architecture([{'class_name': 'Lambda', 'config': {'name': 'x', 'function': 'os.exit'}}])),
           [], "unknown layer class 'Lambda'")
model_file('layer-not-object', meta(architecture([5])), [], 'must be an object')
model_file('layers-not-list', meta(architecture({'dense': 1})), [], 'must be a list')
model_file('unknown-argument', meta(architecture([dense('dense', 4, [3], code='print(1)')])),
           ONE_DENSE_TENSORS, "unknown argument 'code'")
model_file('argument-twice', meta(architecture([dense('dense', 4, [3])]).replace(
    '"units":4', '"units":4,"units":5')), ONE_DENSE_TENSORS, "'units' is given twice")
model_file('units-negative', meta(architecture([dense('dense', -4, [3])])), [],
           'units must be an integer from 1')
model_file('units-string', meta(architecture([dense('dense', '4', [3])])), [],
           'units must be an integer')
model_file('units-fraction', meta(architecture([dense('dense', 4.5, [3])])), [],
           'units must be an integer from 1 to 1073741824, got 4.5')
model_file('permute-dims-null',
           meta(architecture([{'class_name': 'Permute',
                               'config': {'dims': None, 'name': 'p', 'input_shape': [2, 3]}}])),
           [], 'dims is required, got null')
model_file('units-missing', meta(architecture([{'class_name': 'Dense', 'config': {'name': 'd'}}])),
           [], "required argument 'units' is missing")
model_file('unknown-activation', meta(architecture([dense('dense', 4, [3], activation='evil')])),
           [], "unknown activation 'evil'")
model_file('use-bias-not-bool', meta(architecture([dense('dense', 4, [3], use_bias=1)])), [],
           'use_bias must be true or false')
model_file('initializer-stray-key',
           meta(architecture([dense('dense', 4, [3], kernel_initializer={'name': 'zeros', 'x': 1})])),
           [], "unknown key 'x'")
model_file('regularizer-negative',
           meta(architecture([dense('dense', 4, [3], kernel_regularizer={'l1': -1})])), [],
           'factors must be >= 0')
model_file('constraint-axis-out-of-range',
           meta(architecture([dense('dense', 4, [3], kernel_constraint={'name': 'max_norm', 'axis': [9]})])),
           [], 'constraint axis must be an integer')
model_file('name-control-byte',
           meta(architecture([dense('dense', 4, [3])]).replace('"name":"sequential"', '"name":"a\\u0001b"')),
           ONE_DENSE_TENSORS, "the model's name must not hold control characters (found byte 1)")
model_file('constraint-axis-beyond-kernel',
           meta(architecture([dense('dense', 4, [3], kernel_constraint={'name': 'max_norm', 'axis': [5]})])),
           ONE_DENSE_TENSORS, "axis={5} does not fit a weight of shape (3, 4)")
model_file('constraint-max-value-negative',
           meta(architecture([dense('dense', 4, [3],
                                    kernel_constraint={'name': 'max_norm', 'max_value': -2, 'axis': [0]})])),
           ONE_DENSE_TENSORS, 'max_value must be >= 0, got -2')
model_file('constraint-min-above-max',
           meta(architecture([dense('dense', 4, [3],
                                    kernel_constraint={'name': 'min_max_norm', 'min_value': 2,
                                                       'max_value': 1, 'rate': 1, 'axis': [0]})])),
           ONE_DENSE_TENSORS, 'needs 0 <= min_value <= max_value')
model_file('input-shape-zero', meta(architecture([dense('dense', 4, [0])])), [],
           'entry 1 must be a size from 1')
model_file('input-shape-nine-dims', meta(architecture([dense('dense', 4, [1] * 9)])), [],
           'at most 8 are supported')
model_file('name-empty', meta(architecture([dense('', 4, [3])])), [], 'name must be 1 to')
model_file('name-missing', meta(architecture([{'class_name': 'Dense', 'config': {'units': 4}}])), [],
           'has no name')
model_file('name-with-slash', meta(architecture([dense('a/b', 4, [3])])), [], "contains '/'")
model_file('names-twice', meta(architecture([dense('d', 4, [3]), dense('d', 4)])), [],
           'both named "d"')
model_file('huge-dense-without-weights',
           meta(architecture([dense('dense', 100000, [100000])])), [],
           "tensor 'dense/kernel' of shape (100000, 100000) is missing")
model_file('huge-flatten-input',
           meta(architecture([{'class_name': 'Flatten',
                               'config': {'name': 'f', 'input_shape': [1 << 30, 1 << 30, 1 << 30]}}])),
           [], 'which nnsh refuses')
model_file('weight-wrong-shape', meta(ONE_DENSE),
           [('dense/kernel', 'F32', [4, 4], 4), ('dense/bias', 'F32', [4], 4)],
           "but the model's weight has shape (3, 4)")
model_file('weight-wrong-dtype', meta(ONE_DENSE),
           [('dense/kernel', 'F64', [3, 4], 8), ('dense/bias', 'F32', [4], 4)],
           'nnsh reads F32 weights')
model_file('weight-missing', meta(ONE_DENSE), [('dense/kernel', 'F32', [3, 4], 4)],
           "tensor 'dense/bias' of shape (4,) is missing")
model_file('weight-extra', meta(ONE_DENSE), ONE_DENSE_TENSORS + [('evil/kernel', 'F32', [1], 4)],
           "tensor 'evil/kernel' belongs to no")
model_file('weights-for-unbuilt-model', meta(architecture([dense('dense', 4)])), ONE_DENSE_TENSORS,
           "tensor 'dense/kernel' belongs to no")
model_file('build-shape-without-batch', meta(architecture([dense('dense', 4)], [3])), [],
           'must start with null')
model_file('build-shape-disagrees', meta(architecture([dense('dense', 4, [3])], [None, 5])), [],
           'disagrees')
model_file('dense-on-feature-map', meta(architecture([dense('dense', 4, [4, 4, 3])])),
           ONE_DENSE_TENSORS, 'a Dense layer right after a feature map is refused')
model_file('choice-unknown',
           meta(architecture([{'class_name': 'Flatten',
                               'config': {'name': 'f', 'data_format': 'channels_middle'}}])),
           [], "data_format 'channels_middle' is not one of its choices")
model_file('compile-negative-learning-rate',
           meta(ONE_DENSE, **{'nnsh.compile': json.dumps(
               {'loss': {'name': 'mse', 'from_logits': False}, 'metrics': [],
                'optimizer': {'name': 'sgd', 'learning_rate': -1}})}),
           ONE_DENSE_TENSORS, 'must be >= 0')
model_file('compile-metrics-not-list',
           meta(ONE_DENSE, **{'nnsh.compile': json.dumps(
               {'loss': {'name': 'mse'}, 'metrics': 'accuracy', 'optimizer': {'name': 'sgd'}})}),
           ONE_DENSE_TENSORS, 'needs loss, metrics and optimizer')
model_file('optimizer-state-stray-slot',
           meta(ONE_DENSE, **{'nnsh.compile': json.dumps(
               {'loss': {'name': 'mse'}, 'metrics': [], 'optimizer': {'name': 'sgd'}}),
               'nnsh.optimizer_state': json.dumps({'iterations': 3, 'slots': ['evil']})}),
           ONE_DENSE_TENSORS, 'optimizer state buffers but sgd')
model_file('optimizer-iterations-huge',
           meta(ONE_DENSE, **{'nnsh.compile': json.dumps(
               {'loss': {'name': 'mse'}, 'metrics': [], 'optimizer': {'name': 'sgd'}}),
               'nnsh.optimizer_state': json.dumps({'iterations': '18446744073709551615',
                                                   'slots': []})}),
           ONE_DENSE_TENSORS, 'iterations must be at most 9223372036854775807, got 18446744073709551615')
model_file('optimizer-tensor-without-state', meta(ONE_DENSE, **{'nnsh.compile': json.dumps(
               {'loss': {'name': 'mse'}, 'metrics': [], 'optimizer': {'name': 'sgd'}})}),
           ONE_DENSE_TENSORS + [('optimizer/momentum/dense/kernel', 'F32', [3, 4], 4)],
           "tensor 'optimizer/momentum/dense/kernel' belongs to no")
model_file('training-step-negative', meta(ONE_DENSE, **{'nnsh.training': '{"step":-5}'}),
           ONE_DENSE_TENSORS, 'training step must be an integer from 0')
model_file('training-unknown-key', meta(ONE_DENSE, **{'nnsh.training': '{"step":1,"exec":"x"}'}),
           ONE_DENSE_TENSORS, "unknown key 'exec'")

# ---- inputs the fuzzers found (committed as they were found; listed, not generated) ----
FUZZ_FINDINGS = [
    # input_shape with 8 sizes: with the batch axis the model's input shape had 9 axes and
    # overflowed its dims array (fuzz_model_file, ASan stack-buffer-overflow).
    ('fuzz-input-shape-eight-sizes.safetensors', 'input_shape must list 1 to 7 sizes'),
]
EXPECTED.extend(FUZZ_FINDINGS)

with open(os.path.join(OUT, 'EXPECTED'), 'w') as f:
    f.write('# file<TAB>fragment its rejection message must contain (written by make_corpus.py)\n')
    for name, fragment in EXPECTED:
        f.write(f'{name}\t{fragment}\n')
print(f'{len(EXPECTED)} files in {OUT}')
