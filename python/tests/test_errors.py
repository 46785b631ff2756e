"""mmm.Error: one subclass per Errc, each deriving from its builtin."""

import os
import pickle
import tempfile

import numpy as np
import pytest

import mmm

BUILTINS = {
    mmm.NotFoundError: FileNotFoundError,
    mmm.AlreadyExistsError: FileExistsError,
    mmm.PermissionDeniedError: PermissionError,
    mmm.TimeoutError: TimeoutError,
    mmm.DaemonUnavailableError: ConnectionError,
    mmm.OutOfRangeError: IndexError,
    mmm.TypeMismatchError: TypeError,
    mmm.InvalidNameError: ValueError,
    mmm.InvalidArgumentError: ValueError,
}


def test_one_class_per_code():
    codes = {cls.code for cls in mmm.ERROR_CLASSES}
    assert codes == set(mmm.Errc) - {mmm.Errc.ok}
    for cls in mmm.ERROR_CLASSES:
        assert issubclass(cls, mmm.Error) and cls.__module__ == "mmm"
        assert getattr(mmm, cls.__name__) is cls
    for cls, builtin in BUILTINS.items():
        assert issubclass(cls, builtin), cls


def _raised(op):
    with pytest.raises(mmm.Error) as e:
        op()
    return e.value


def test_each_builtin_case(client, name):
    coord = np.dtype([("x", "<i4"), ("y", "<i4")])
    c = client.create(name, coord, 2)
    r = client.open(name, readonly=True)
    with tempfile.TemporaryDirectory() as empty:
        os.chmod(empty, 0o700)
        cases = {
            mmm.NotFoundError: lambda: client.open(name + ".missing"),
            mmm.AlreadyExistsError: lambda: client.create(name, coord, 2),
            mmm.PermissionDeniedError: lambda: r.write(0, (1, 2)),
            mmm.TimeoutError: lambda: client.open(name + ".missing", wait=0.01),
            mmm.DaemonUnavailableError: lambda: mmm.Client(empty),
            mmm.OutOfRangeError: lambda: c.read(2),
            mmm.TypeMismatchError: lambda: client.open(name, dtype="<u8"),
            mmm.InvalidNameError: lambda: client.create("no/slashes", coord, 1),
            mmm.InvalidArgumentError: lambda: client.create(name + ".zero", coord, 0),
        }
        for cls, op in cases.items():
            e = _raised(op)
            assert type(e) is cls, (cls, e)
            assert isinstance(e, BUILTINS[cls])
            assert e.code == cls.code and isinstance(e.code, mmm.Errc)
            assert e.message and e.message in str(e)
            assert e.hint in str(e)
            copy = pickle.loads(pickle.dumps(e))
            assert type(copy) is cls and str(copy) == str(e)
            assert (copy.code, copy.chunk, copy.message, copy.hint) == \
                (e.code, e.chunk, e.message, e.hint)
    r.close()
    c.close()
    client.remove(name)


def test_error_details(client, name):
    e = _raised(lambda: client.open(name))
    assert e.chunk == name and name in str(e)
    assert e.errno == 2 and e.filename == name   # what OSError handlers look at
    e = _raised(lambda: mmm.Client("/nonexistent-mmm-dir"))
    assert e.hint  # what to do next
    assert isinstance(e, OSError)
