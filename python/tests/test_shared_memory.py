"""mmm.SharedMemory side by side with multiprocessing.shared_memory.SharedMemory:
the same operations give the same results and the same exceptions."""

import multiprocessing
import multiprocessing.shared_memory
import pickle
import subprocess
import sys

import numpy as np
import pytest

import mmm

from mp_children import attach_and_write, implementation, write_through

IMPLEMENTATIONS = ["multiprocessing", "mmm"]


@pytest.fixture(params=IMPLEMENTATIONS)
def SharedMemory(request, daemon):
    return implementation(request.param)


@pytest.fixture
def which(SharedMemory):
    return "mmm" if SharedMemory is mmm.SharedMemory else "multiprocessing"


def test_create_attach_and_views(SharedMemory, which):
    a = SharedMemory(create=True, size=100)
    try:
        assert a.name.startswith("psm_") and len(a.name) <= 14
        assert a.size == 100 and len(a.buf) == 100 and bytes(a.buf) == bytes(100)
        a.buf[:5] = b"hello"
        b = SharedMemory(a.name)
        assert b.size == 100 and bytes(b.buf[:5]) == b"hello"
        assert repr(b) == f"SharedMemory({a.name!r}, size=100)" and str(b) == repr(b)
        c = SharedMemory("/" + a.name)  # a leading slash names the same block
        assert c.name == "/" + a.name and bytes(c.buf[:5]) == b"hello"
        arr = np.ndarray((100,), dtype=np.uint8, buffer=b.buf)
        arr[5] = 33
        assert a.buf[5] == 33
        b.close()  # no error in either, though arr still points into the block
        if which == "mmm":
            arr[6] = 44  # mmm keeps the mapping while arr uses it (multiprocessing
            assert a.buf[6] == 44  # unmapped it: arr[6] would crash the process)
        del arr
        b.close()
        b.close()
        c.close()
        assert b.buf is None and b.size == 100 and b.name == a.name
    finally:
        a.close()
        a.unlink()


def test_named_create_and_errors(SharedMemory, name):
    name = "psm-" + name[-20:]
    with pytest.raises(ValueError):
        SharedMemory(create=True, size=0)
    with pytest.raises(ValueError):
        SharedMemory(name, create=True, size=-1)
    with pytest.raises(ValueError):
        SharedMemory()
    with pytest.raises(FileNotFoundError):
        SharedMemory(name)
    a = SharedMemory(name, create=True, size=10)
    try:
        assert a.name == name and a.size == 10
        with pytest.raises(FileExistsError):
            SharedMemory(name, create=True, size=10)
        b = SharedMemory(name, size=5000)   # size is ignored when attaching
        assert b.size == 10
        b.close()
    finally:
        a.close()
        a.unlink()
    with pytest.raises(FileNotFoundError):
        a.unlink()
    with pytest.raises(FileNotFoundError):
        SharedMemory(name)


def test_pickling(SharedMemory):
    a = SharedMemory(create=True, size=16)
    try:
        a.buf[0] = 42
        b = pickle.loads(pickle.dumps(a))
        assert type(b) is SharedMemory and (b.name, b.size) == (a.name, a.size)
        assert b.buf[0] == 42
        b.close()
    finally:
        a.close()
        a.unlink()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_across_multiprocessing_processes(SharedMemory, which, method):
    ctx = multiprocessing.get_context(method)
    a = SharedMemory(create=True, size=32)
    try:
        p = ctx.Process(target=attach_and_write, args=(which, a.name, b"by name"))
        p.start()
        p.join(60)
        assert p.exitcode == 0 and bytes(a.buf[:7]) == b"by name"
        p = ctx.Process(target=write_through, args=(a, b"pickled"))
        p.start()
        p.join(60)
        assert p.exitcode == 0 and bytes(a.buf[:7]) == b"pickled"
    finally:
        a.close()
        a.unlink()


def test_blocks_outlive_their_users(daemon, client):
    """No resource tracker: a process that attaches and exits leaves the block
    (multiprocessing's, in Python 3.11, unlinks it: bpo-38119)."""
    a = mmm.SharedMemory(create=True, size=8)
    try:
        code = ("import mmm, sys\ns = mmm.SharedMemory(sys.argv[1])\ns.buf[0] = 7\n"
                "s.close()\n")
        subprocess.run([sys.executable, "-c", code, a.name], env=daemon.env(), check=True,
                       timeout=60)
        assert a.buf[0] == 7
        b = mmm.SharedMemory(a.name)
        assert b.buf[0] == 7
        b.close()
        info = client.info(a.name)  # an mmm chunk of bytes, listed like any other
        assert info.dtype == np.uint8 and info.count == 8 and info.mode == 0o600
    finally:
        a.close()
        a.unlink()


def test_mmm_attaches_to_any_chunk(client, name):
    with client.create(name, [("x", "<i4"), ("y", "<i4")], 3) as c:
        c.write(2, (1, 2))
        s = mmm.SharedMemory(name)
        assert s.size == 24 and bytes(s.buf[16:20]) == (1).to_bytes(4, "little")
        s.close()
    client.remove(name)
