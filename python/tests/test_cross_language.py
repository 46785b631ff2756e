"""A C++ program (mmm_py_helper, with BOOST_DESCRIBE_STRUCT types) and Python
share chunks both ways, with the type check of C++ open<T>."""

import numpy as np
import pytest

import mmm

from conftest import run_helper

VEC3 = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4")])
PARTICLE = np.dtype([("id", "<i4"), ("pos", VEC3), ("vel", "<f8", (2,)), ("flags", "u1"),
                     ("tag", "S1")], align=True)
N = 50


def particle_at(i):
    return (7 * i - 3, (0.5 * i, -float(i), 1000.0 + i), (1.25 * i, -2.5 * i), i % 256,
            bytes([ord("a") + i % 26]))


def expected(n):
    a = np.zeros(n, PARTICLE)
    for i in range(n):
        a[i] = particle_at(i)
    return a


def test_cpp_writes_python_reads(daemon, client, name):
    out = run_helper(daemon, "write-particles", name, str(N))
    assert out.returncode == 0, out.stdout + out.stderr
    with client.open(name, readonly=True) as c:
        assert c.dtype == PARTICLE                      # names, offsets, nesting from the schema
        assert c.dtype.names == ("id", "pos", "vel", "flags", "tag")
        assert c.dtype["pos"].names == ("x", "y", "z")
        assert c.type_name.endswith("Particle")
        assert np.array_equal(c.array, expected(N))
        assert c.array["pos"]["z"].sum() == pytest.approx(sum(1000.0 + i for i in range(N)))
        assert c.read(3)["tag"] == b"d"
    client.remove(name)


def test_python_writes_cpp_reads(daemon, client, name):
    with client.create(name, PARTICLE, N) as c:
        c.array[:] = expected(N)
        c.write(N - 1, particle_at(N - 1))
        out = run_helper(daemon, "check-particles", name, str(N))
        assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr
        c.array[5]["vel"][1] = 99.0
        out = run_helper(daemon, "check-particles", name, str(N))
        assert out.stdout.strip() == "mismatch 5"
        c.remove()


def test_cpp_open_refuses_another_schema(daemon, client, name):
    other = np.dtype([("id", "<i4"), ("pos", VEC3), ("vel", "<f4", (2,)), ("flags", "u1"),
                      ("tag", "S1")], align=True)
    with client.create(name, other, N) as c:
        out = run_helper(daemon, "check-particles", name, str(N))
        assert out.returncode == 64 + int(mmm.Errc.type_mismatch), out.stdout + out.stderr
        assert "vel" in out.stdout                  # the field-level message
        c.remove()
    with client.create(name, PARTICLE, N, type_name="SomethingElse") as c:
        out = run_helper(daemon, "check-particles", name, str(N))
        assert out.returncode == 64 + int(mmm.Errc.type_mismatch)
        assert "names are not" in out.stdout
        c.remove()


def test_python_open_refuses_another_dtype(daemon, client, name):
    assert run_helper(daemon, "write-particles", name, "3").returncode == 0
    wrong = np.dtype([("id", "<i4"), ("pos", VEC3), ("vel", "<f8", (2,)), ("flags", "u1"),
                      ("label", "S1")], align=True)
    with pytest.raises(mmm.TypeMismatchError) as e:
        client.open(name, dtype=wrong)
    assert "tag" in str(e.value) or "label" in str(e.value)
    with client.open(name, dtype=PARTICLE) as c:
        assert c.read(2)["id"] == 11
    client.remove(name)


def test_unnamed_fields_are_f0_f1(daemon, client, name):
    assert run_helper(daemon, "write-coords", name, "4").returncode == 0
    with client.open(name) as c:
        assert c.dtype.names == ("f0", "f1")
        assert c.array["f0"].tolist() == [1, 4, 7, 10]
    client.remove(name)
    with client.create(name, [("f0", "<i4"), ("f1", "<i4")], 4) as c:
        c.array["f0"] = [1, 4, 7, 10]
        c.array["f1"] = [-2, -9, -16, -23]
        out = run_helper(daemon, "check-coords", name, "4")
        assert out.stdout.strip() == "ok", out.stdout + out.stderr
        c.remove()
    with client.create(name, [("x", "<i4"), ("y", "<i4")], 4) as c:
        out = run_helper(daemon, "check-coords", name, "4")
        assert out.returncode == 64 + int(mmm.Errc.type_mismatch), out.stdout
        c.remove()


def test_opaque_cpp_chunk_opens_as_bytes(daemon, client, name):
    assert run_helper(daemon, "write-blobs", name, "3").returncode == 0
    with client.open(name) as c:
        assert c.schema.is_opaque and c.dtype == np.dtype(("u1", (12,)))
        assert c.array.shape == (3, 12)
        assert c.array[2].tolist() == [2 + k for k in range(12)]
    with client.open(name, dtype=[("a", "<u4"), ("b", "<u4"), ("c", "<u4")]) as c:
        assert c.array["a"][0] == int.from_bytes(bytes([0, 1, 2, 3]), "little")
    with pytest.raises(mmm.TypeMismatchError):
        client.open(name, dtype="<u8")
    client.remove(name)
