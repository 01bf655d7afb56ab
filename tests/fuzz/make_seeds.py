#!/usr/bin/env python3
"""Writes the seed corpus for msg_frame_fuzz (tests/fuzz/corpus/msg_frame/).

Run from anywhere: /usr/bin/python3 tests/fuzz/make_seeds.py. Layout as in docs/wire-format.md.
"""
import os
import struct

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def struct_(version, compat, body):
    return struct.pack('<BBI', version, compat, len(body)) + body

def string(s):
    return struct.pack('<I', len(s)) + s

def entity_name(t, i):
    return struct_(1, 1, struct.pack('<B', t) + string(i))

def entity_addr(host, port):
    return struct_(1, 1, string(host) + struct.pack('<H', port))

def hello(fresh=False):
    body = entity_name(2, b'3') + entity_addr(b'127.0.0.1', 6800) + struct.pack('<BQQQB', 1, 77, 5, 4, int(fresh))
    return struct_(1, 1, body)

def header(type_, flags, tid, seq, ack, front, data):
    h = struct.pack('<IBBHQQQIIIII', 0x464E5243, 1, flags, type_, tid, seq, ack,
                    len(front), len(data), crc32c(front), crc32c(data), 0)
    return h + struct.pack('<I', crc32c(h))

def huge_header():
    # A well-formed header (valid crc) announcing a 4 GiB data segment.
    h = struct.pack('<IBBHQQQIIIII', 0x464E5243, 1, 0, 0x12, 0, 0, 0, 0, 0xFFFFFFFF, 0, 0, 0)
    return h + struct.pack('<I', crc32c(h))

def frame(type_, front, data=b'', flags=0, tid=0, seq=0, ack=0):
    return header(type_, flags, tid, seq, ack, front, data) + front + data

def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'msg_frame')
    os.makedirs(out, exist_ok=True)
    seeds = {
        'hello_frame': frame(1, hello()),
        'hello_fresh_frame': frame(1, hello(True)),
        'data_frame': frame(0x12, b'17', bytes(range(256)) * 4, flags=1, tid=9, seq=3, ack=2),
        'empty_frame': frame(3, b''),
        'truncated_frame': frame(0x12, b'x' * 20, b'y' * 100)[:90],
        'bad_magic': b'XXXX' + frame(1, hello())[4:],
        'huge_data_len': huge_header(),
        'hello_struct': hello(),
        'entity_name': entity_name(4, b'admin'),
        'entity_inst_text': b'osd.3@127.0.0.1:6800',
        'two_frames': frame(3, b'') + frame(4, b''),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)

if __name__ == '__main__':
    main()
