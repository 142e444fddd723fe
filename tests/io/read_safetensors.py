#!/usr/bin/env python3
"""An independent safetensors reader using only Python's standard library, written from
the format's description (not from nnsh's C code), to check that other tools can read
what nnsh writes.

    header = read_safetensors('model.safetensors')
    header.metadata['nnsh.format'], header.tensors['dense/kernel'].values

Usage as a program: read_safetensors.py FILE prints every tensor's name, dtype, shape and
first values, and the metadata keys."""
import json
import struct
import sys

# dtype -> (struct format character, bytes per element)
DTYPES = {
    'BOOL': ('?', 1), 'U8': ('B', 1), 'I8': ('b', 1), 'I16': ('h', 2), 'U16': ('H', 2),
    'F16': ('e', 2), 'I32': ('i', 4), 'U32': ('I', 4), 'F32': ('f', 4), 'I64': ('q', 8),
    'U64': ('Q', 8), 'F64': ('d', 8),
}


class Tensor:
    def __init__(self, name, dtype, shape, raw):
        self.name, self.dtype, self.shape, self.raw = name, dtype, shape, raw
        code, size = DTYPES[dtype]
        self.values = list(struct.unpack('<%d%s' % (len(raw) // size, code), raw))


class File:
    def __init__(self, metadata, tensors, header_text):
        self.metadata, self.tensors, self.header_text = metadata, tensors, header_text


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError('%s: shorter than the 8-byte header length' % path)
    (length,) = struct.unpack('<Q', data[:8])
    if 8 + length > len(data):
        raise ValueError('%s: header length %d runs past the end' % (path, length))
    header_text = data[8:8 + length].decode('utf-8')  # strict: raises on bad UTF-8

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError('%s: duplicate keys in the header' % path)
        return dict(pairs)

    header = json.loads(header_text, object_pairs_hook=no_duplicates)
    metadata = header.pop('__metadata__', {})
    if not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError('%s: metadata values must be strings' % path)
    body = data[8 + length:]
    tensors, spans = {}, []
    for name, info in header.items():
        dtype, shape, (begin, end) = info['dtype'], info['shape'], info['data_offsets']
        count = 1
        for dim in shape:
            if not isinstance(dim, int) or dim < 0:
                raise ValueError('%s: bad shape for %s' % (path, name))
            count *= dim
        if count * DTYPES[dtype][1] != end - begin:
            raise ValueError('%s: %s: size does not match its shape' % (path, name))
        spans.append((begin, end))
        tensors[name] = Tensor(name, dtype, shape, body[begin:end])
    spans.sort()
    position = 0
    for begin, end in spans:
        if begin != position:
            raise ValueError('%s: tensors are not contiguous' % path)
        position = end
    if position != len(body):
        raise ValueError('%s: %d data bytes, tensors cover %d' % (path, len(body), position))
    return File(metadata, tensors, header_text)


if __name__ == '__main__':
    result = read_safetensors(sys.argv[1])
    for key in result.metadata:
        print('metadata', key, len(result.metadata[key]), 'characters')
    for name, tensor in result.tensors.items():
        print(name, tensor.dtype, tensor.shape, tensor.values[:4])
