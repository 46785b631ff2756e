"""Client.create/open/list/info/remove, dtypes and schemas, views and their lifetimes."""

import gc
import threading

import numpy as np
import pytest

import mmm

COORD = np.dtype([("x", "<i4"), ("y", "<i4")])


def test_create_write_read_open(client, name):
    with client.create(name, COORD, 3, type_name="Coordinate") as c:
        assert (c.size, len(c), c.element_size, c.max_size) == (3, 3, 8, 3)
        assert c.dtype == COORD and c.type_name == "Coordinate" and not c.readonly
        assert c.array.shape == (3,) and c.array.tolist() == [(0, 0)] * 3  # zero-filled
        c.array[0] = (3, 9)                      # numpy view: zero copy
        c.write(1, (1, 2))                       # checked, untorn
        assert tuple(c.read(1)) == (1, 2)
        assert tuple(c.read(-3)) == (3, 9)
        with client.open(name, readonly=True) as r:  # dtype from the schema
            assert r.dtype.names == ("x", "y") and r.dtype == COORD
            assert r.array["x"].sum() == 4
            assert r.array.flags.writeable is False and r.readonly
            assert r.type_name == "Coordinate"
            c.array[2] = (10, 20)                # the same memory, seen at once
            assert r.array[2].tolist() == (10, 20)
    assert repr(c) == f"<mmm.Chunk '{name}' (closed)>"
    client.remove(name)


@pytest.mark.parametrize("code", ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4",
                                  "f8", "S1"])
def test_scalar_dtypes(client, name, code):
    dt = np.dtype(code)
    values = np.arange(4).astype(dt) if code != "S1" else np.array([b"a", b"b", b"c", b"d"])
    with client.create(name, dt, 4) as c:
        c.array[:] = values
        c.write(3, values[0])
        with client.open(name, readonly=True) as r:
            assert r.dtype == dt
            assert r.array.tolist()[:3] == values.tolist()[:3]
            assert r.read(3) == values[0]
        c.remove()


NESTED = np.dtype([("id", "<u8"),
                   ("m", [("a", "<f4"), ("b", "<i2", (3,))]),
                   ("grid", "<f8", (2, 3)),
                   ("ok", "?")], align=True)


def test_nested_and_subarray_fields(client, name):
    value = (7, (1.5, [1, 2, 3]), [[1, 2, 3], [4, 5, 6]], True)
    with client.create(name, NESTED, 2) as c:
        c.write(1, value)
        assert str(c.schema).startswith("struct")
        with client.open(name) as r:
            assert r.dtype == NESTED and r.dtype.itemsize == NESTED.itemsize
            got = r.read(1)
            assert got["id"] == 7 and got["m"]["b"].tolist() == [1, 2, 3]
            assert r.array["grid"][1].tolist() == [[1, 2, 3], [4, 5, 6]]
            assert r.array["grid"].shape == (2, 2, 3)
        c.remove()


def test_element_that_is_an_array(client, name):
    with client.create(name, ("<f8", (3,)), 4) as c:
        assert c.array.shape == (4, 3) and c.array.dtype == np.float64
        c.write(2, [1.0, 2.0, 3.0])
        assert c.read(2).tolist() == [1.0, 2.0, 3.0]
        assert c.array[2].tolist() == [1.0, 2.0, 3.0]
        assert mmm.schema_of(("<f8", (3,))).summary() == "float64[3]"
        c.remove()


def test_schema_and_dtype_functions():
    s = mmm.schema_of(COORD)
    assert s.summary() == "{x: int32, y: int32}" and s.size == 8 and s.align == 4
    assert s == mmm.schema_of(np.dtype([("x", "i4"), ("y", "i4")], align=True))
    assert s != mmm.schema_of(np.dtype([("x", "i4"), ("z", "i4")]))
    assert mmm.dtype_of(s) == COORD
    assert mmm.dtype_of(mmm.schema_of(NESTED)) == NESTED
    assert mmm.schema_of("S4").summary() == "char[4]"


@pytest.mark.parametrize("dt", ["c16", "f2", "U4", "O", "M8[s]", ">i4",
                                [("a", "u1"), ("b", "<i4")]])
def test_dtypes_without_a_schema(client, name, dt):
    with pytest.raises(mmm.InvalidArgumentError) as e:
        client.create(name, dt, 1)
    assert isinstance(e.value, ValueError)
    if isinstance(dt, list):  # packed: the hint says how to align it
        assert "align=True" in e.value.hint


def test_opaque_dtype_and_raw_views(client, name):
    with client.create(name, "V12", 2) as c:
        assert c.schema.is_opaque
        with client.open(name) as r:
            assert r.dtype == np.dtype(("u1", (12,))) and r.array.shape == (2, 12)
            r.write(1, bytes(range(12)))
            assert bytes(c.read(1)) == bytes(range(12))
        with client.open(name, dtype=[("a", "<i4"), ("b", "<i4"), ("c", "<i4")]) as r:
            assert r.array["c"][1] == int.from_bytes(bytes(range(8, 12)), "little")
        with pytest.raises(mmm.TypeMismatchError):
            client.open(name, dtype="<i8")
        c.remove()


def test_open_with_a_dtype(client, name):
    with client.create(name, COORD, 2):
        with client.open(name, dtype=COORD) as r:
            assert r.dtype == COORD
        with client.open(name, dtype="V8") as r:  # raw bytes of the element's size
            assert r.array.dtype == np.dtype("V8")
        with pytest.raises(mmm.TypeMismatchError) as e:
            client.open(name, dtype=[("x", "<i4"), ("z", "<i4")])
        assert isinstance(e.value, TypeError) and "z" in str(e.value)
        with pytest.raises(TypeError):
            client.open(name, dtype="<i8")
    client.remove(name)


def _mapping_permissions(address):
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if lo <= address < hi:
                return perms
    return None


def test_read_only_enforcement(client, name):
    with client.create(name, COORD, 2) as c, client.open(name, readonly=True) as r:
        a = r.array
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0] = (1, 1)
        with pytest.raises(ValueError):
            a.flags.writeable = True
        with pytest.raises(PermissionError) as e:
            r.write(0, (1, 1))
        assert isinstance(e.value, mmm.PermissionDeniedError)
        with pytest.raises(PermissionError):
            r.lock()
        assert r.buf.readonly
        with pytest.raises(TypeError):
            r.buf[0] = 1
        # and the kernel's: a read-only mapping underneath
        assert _mapping_permissions(a.ctypes.data)[:2] == "r-"
        assert _mapping_permissions(c.array.ctypes.data)[:2] == "rw"
        c.remove()


def test_view_outlives_its_chunk_object(client, name):
    c = client.create(name, COORD, 2)
    a, b = c.array, c.buf
    c.close()
    c.close()  # idempotent
    assert c.closed
    with pytest.raises(ValueError):
        c.read(0)
    del c
    gc.collect()
    a[1] = (5, 6)                     # still mapped
    assert bytes(b[8:12]) == (5).to_bytes(4, "little")
    with client.open(name) as again:
        assert tuple(again.read(1)) == (5, 6)
    client.remove(name)


def test_view_of_a_removed_chunk(client, name):
    c = client.create(name, COORD, 2)
    a = c.array
    a[1] = (7, 8)
    client.remove(name)
    assert c.deleted
    with pytest.raises(FileNotFoundError):
        client.open(name)
    c.close()
    del c
    gc.collect()
    assert a[1].tolist() == (7, 8)    # valid until the last view goes
    with client.create(name, COORD, 2) as fresh:  # a new chunk of that name
        assert fresh.array[1].tolist() == (0, 0)
        fresh.remove()


def test_list_info_remove(client, name):
    with client.create(name + ".a", COORD, 3, mode=0o640, type_name="Coordinate"), \
         client.create(name + ".b", "f8", 5, lifetime="session"):
        names = [i.name for i in client.list()]
        assert names.index(name + ".a") < names.index(name + ".b")
        info = client.info(name + ".a")
        assert (info.count, info.element_size, info.bytes, info.mode) == (3, 8, 24, 0o640)
        assert info.type_name == "Coordinate" and info.dtype == COORD
        assert info.lifetime == "persistent" and info.state == "ready" and info.kind == "array"
        assert info.schema == mmm.schema_of(COORD) and info.created > 0
        assert any(a.writable for a in info.attachments)
        assert client.info(name + ".b").lifetime == "session"
        assert "Coordinate" in repr(info)
        client.remove(name + ".a")
        client.remove(name + ".b")
    assert name + ".a" not in [i.name for i in client.list()]
    with pytest.raises(ValueError):
        client.create(name, COORD, 1, lifetime="forever")


def test_huge_pages_option(client, name):
    with pytest.raises(ValueError, match="huge_pages"):
        client.create(name, "f8", 1, huge_pages="sometimes")
    # This test's mmmd has no huge-page directory (tests/test_huge_pages.cpp
    # runs one): 'always' is refused, 'never' and 'auto' use /dev/shm.
    with pytest.raises(ValueError, match="huge-page directory"):
        client.create(name, "f8", 1, huge_pages="always")
    with client.create(name, "f8", 1 << 19, huge_pages="never") as c:
        assert not client.info(name).huge_pages
        c.remove()
    assert name not in [i.name for i in client.list()]


def test_version_and_wait_for_change(client, name):
    with client.create(name, COORD, 2) as c:
        v = c.version()
        assert c.wait_for_change(v, timeout=0.01) is None
        c.write(0, (1, 1))
        assert c.version() != v
        assert c.wait_for_change(v, timeout=1.0) == c.version()
        c.remove()


def test_lock(client, name):
    with client.create(name, COORD, 2) as c:
        v = c.version()
        with c.lock() as g:
            assert g.locked and not g.previous_owner_died
            result = []
            t = threading.Thread(target=lambda: result.append(_try_lock(c, 0.05)))
            t.start()
            t.join(10)
            assert result == ["timeout"]
        assert not g.locked and c.version() != v
        with c.lock(timeout=1.0):
            pass
        c.remove()


def _try_lock(c, timeout):
    try:
        with c.lock(timeout=timeout):
            return "locked"
    except TimeoutError:  # mmm.TimeoutError is the builtin's subclass
        return "timeout"


def test_open_waits_for_the_create(client, name):
    opened = []
    t = threading.Thread(target=lambda: opened.append(client.open(name, wait=10.0)))
    t.start()
    with client.create(name, COORD, 1):
        t.join(10)
    assert len(opened) == 1 and opened[0].size == 1
    opened[0].close()
    client.remove(name)
    with pytest.raises(mmm.TimeoutError):
        client.open(name, wait=0.05)


def test_growable_chunk_resizes_in_place(client, name):
    with client.create(name, "<u8", 4, max_count=1000) as c:
        assert (c.size, c.max_size) == (4, 1000)
        before = c.array
        before[:] = [1, 2, 3, 4]
        address = before.__array_interface__["data"][0]
        with client.open(name, readonly=True) as r:
            old_view = r.array
            c.resize(500)
            assert c.size == 500 and len(c.array) == 500
            assert c.array.__array_interface__["data"][0] == address  # no remap
            assert before.tolist() == [1, 2, 3, 4]   # an array made before stays valid
            assert c.array[4:].sum() == 0            # new elements read zero
            c.array[499] = 99
            # The other mapping follows without reopening: a fresh array has the
            # new length; the old one keeps its own.
            assert r.size == 500 and len(r.array) == 500 and r.array[499] == 99
            assert len(old_view) == 4
            info = client.resize(name, 2)            # by name, from any process of the owner
            assert (info.count, info.max_count) == (2, 1000)
            assert r.size == 2 and r.array.tolist() == [1, 2]
            with pytest.raises(mmm.OutOfRangeError) as e:
                c.resize(1001)
            assert isinstance(e.value, IndexError) and "1000" in str(e.value)
            with pytest.raises(PermissionError):
                r.resize(3)                          # a read-only mapping cannot
            assert c.size == 2
        with pytest.raises(ValueError):
            client.create(name + "x", "<u8", 8, max_count=4)
        c.remove()
