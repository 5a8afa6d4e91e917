"""xenport's xenstore message parser (xenport/xen/xs_parse.c), compiled for
the host with gcc and fed replies as the ring hands them over: whole ones in
chunks of every size, truncated ones, oversized lengths, error replies and
random bytes (with AddressSanitizer and UBSan when the compiler has them)."""

import errno
import os
import random
import struct
import subprocess

import pytest

from hostbuild import build_driver

HERE = os.path.dirname(os.path.abspath(__file__))
XS_READ, XS_WATCH_EVENT, XS_ERROR, XS_TYPE_COUNT = 2, 15, 16, 23
PAYLOAD_MAX = 4096


@pytest.fixture(scope="module")
def driver(tmpdir_factory):
    return build_driver(tmpdir_factory, "xs-parse", ["xen/xs_parse.c"],
                        os.path.join(HERE, "xs_parse_driver.c"), "/usr/include/xen/io/xs_wire.h")


def message(type_, req_id, payload, tx_id=0, length=None):
    if length is None:
        length = len(payload)
    return struct.pack("<IIII", type_, req_id, tx_id, length) + payload


def feed(driver, chunks):
    data = b"".join(struct.pack("<I", len(c)) + c for c in chunks)
    proc = subprocess.Popen([driver], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate(data)
    assert proc.returncode == 0, (proc.returncode, err[-2000:])
    return out.decode("ascii").splitlines()


def msgs(lines):
    out = []
    for l in lines:
        if l.startswith("msg "):
            f = l.split(" ")
            payload = bytes(bytearray.fromhex(f[7])) if len(f) > 7 else b""
            out.append((int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6]),
                        payload))
    return out


def chunked(data, rng):
    chunks, i = [], 0
    while i < len(data):
        n = rng.choice([1, 2, 3, 7, 16, 100, 1024, len(data)])
        chunks.append(data[i:i + n])
        i += n
    return chunks


def test_replies_in_chunks_of_every_size(driver):
    rng = random.Random(12)
    replies = [message(XS_READ, 1, b"hello"), message(XS_READ, 2, b""),
               message(XS_WATCH_EVENT, 0, b"control/shutdown\0tok\0"),
               message(XS_READ, 3, b"x" * PAYLOAD_MAX),
               message(XS_ERROR, 4, b"ENOENT\0")]
    stream = b"".join(replies)
    for _ in range(12):
        got = msgs(feed(driver, chunked(stream, rng)))
        assert [(m[0], m[1], m[6]) for m in got] == [
            (XS_READ, 1, b"hello"), (XS_READ, 2, b""),
            (XS_WATCH_EVENT, 0, b"control/shutdown\0tok\0"),
            (XS_READ, 3, b"x" * PAYLOAD_MAX), (XS_ERROR, 4, b"ENOENT\0")]
        # split: a payload without its final NUL is malformed; status of an error reply
        assert got[0][4] == -errno.EIO and got[1][4] == 0 and got[2][4] == 2
        assert got[0][5] == 0 and got[4][5] == -errno.ENOENT
        assert got[2][5] == -errno.EIO            # not the reply that was asked for


def test_truncated_replies_are_never_whole(driver):
    whole = message(XS_READ, 7, b"some value")
    for cut in range(len(whole)):
        lines = feed(driver, [whole[:cut]])
        assert msgs(lines) == [] and lines[-3] == "partial %d" % cut, (cut, lines)


def test_oversized_or_unknown_headers_are_malformed(driver):
    lines = feed(driver, [message(XS_READ, 1, b"", length=PAYLOAD_MAX + 1)])
    assert lines[0] == "bad"
    lines = feed(driver, [message(XS_TYPE_COUNT, 1, b"")])
    assert lines[0] == "bad"
    lines = feed(driver, [message(XS_READ, 1, b"", length=0xffffffff) + b"junk"])
    assert lines[0] == "bad"


def test_error_names(driver):
    lines = feed(driver, [])
    assert "errno %d %d %d %d" % (errno.ENOENT, errno.EACCES, errno.EIO, errno.EIO) in lines
    assert "name EAGAIN EIO" in lines


def test_random_bytes(driver):
    rng = random.Random(1234)
    for _ in range(25):
        data = bytes(bytearray(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
        # Headers with a plausible length now and then, so that payloads are read too.
        if rng.random() < 0.5:
            data = message(rng.randrange(XS_TYPE_COUNT), rng.randrange(9),
                           data[:rng.randrange(len(data) + 1)],
                           length=rng.randrange(len(data) + 20)) + data
        lines = feed(driver, chunked(data, rng))
        for m in msgs(lines):
            assert m[0] < XS_TYPE_COUNT and m[3] <= PAYLOAD_MAX and len(m[6]) == m[3]
        assert lines[-3].startswith("partial ")
