"""mmm.SharedMemory: a drop-in for multiprocessing.shared_memory.SharedMemory
backed by mmmd.

Change ``from multiprocessing.shared_memory import SharedMemory`` to
``from mmm import SharedMemory`` and the code runs as before: the same
constructor, ``name``, ``size``, ``buf``, ``close()``, ``unlink()``,
``repr()``, pickling, and the same exceptions. What changes underneath:

- the block is an mmm chunk of bytes (``uint8``), listed by ``mmmctl list``,
  with mmm's permissions (mode 0600: the creating user) and mmmd's quotas;
- there is no resource tracker: a block lives until someone calls
  ``unlink()`` (or ``mmmctl delete``), so no process removes a block that
  others still use, and no "leaked shared_memory objects" warning appears;
- ``close()`` never unmaps memory that a numpy array made from ``buf``
  still uses (``np.ndarray(shape, dtype, buffer=shm.buf)``): the memory
  stays mapped until the last such array is gone. multiprocessing unmaps it
  at once, and using the array afterwards crashes the process;
- ``SharedMemory(name)`` attaches to any chunk, whatever its element type, as
  its bytes; ``size`` is then the chunk's bytes.

Names are mmm chunk names (1 to 128 of ``[A-Za-z0-9._-]``, not starting with
'.') after any leading '/', which is ignored as shm_open ignores it. Any other name
raises ValueError (multiprocessing would raise an OSError from shm_open).
The chunks are found through the default runtime directory
(``$MMM_RUNTIME_DIR``, ...), like ``mmm.Client()``.
"""

from __future__ import annotations

import os
import secrets
import threading

import numpy as np

from ._errors import AlreadyExistsError
from ._mmm import Client

__all__ = ["SharedMemory"]

# As multiprocessing on POSIX: "psm_" and 8 hex digits (14 characters with
# the leading slash it counts in).
_NAME_PREFIX = "psm_"
_NAME_LENGTH = 12

_client: Client | None = None
_client_key: tuple | None = None
_client_lock = threading.Lock()


def _default_client() -> Client:
    """One Client per process and runtime directory, made at first use: a
    fork child makes its own, and a change of $MMM_RUNTIME_DIR is followed."""
    global _client, _client_key
    key = (os.getpid(), os.environ.get("MMM_RUNTIME_DIR"))
    with _client_lock:
        if _client is None or _client_key != key:
            _client = Client()
            _client_key = key
        return _client


def _chunk_name(name: str) -> str:
    # shm_open ignores leading slashes; chunk names have none. `name` itself
    # is kept as given, as multiprocessing keeps it.
    return name.lstrip("/")


def _make_name() -> str:
    return _NAME_PREFIX + secrets.token_hex((_NAME_LENGTH - len(_NAME_PREFIX)) // 2)


class SharedMemory:
    """Creates a new shared memory block or attaches to an existing one, by
    name, as ``multiprocessing.shared_memory.SharedMemory`` does; backed by
    an mmm chunk of bytes that lives until ``unlink()``."""

    _name: str | None = None
    _chunk = None
    _buf: memoryview | None = None
    _size: int = 0

    def __init__(self, name: str | None = None, create: bool = False, size: int = 0,
                 *, track: bool = True) -> None:
        # `track` (Python 3.13) is accepted and has nothing to do: there is no
        # resource tracker to register with.
        if not size >= 0:
            raise ValueError("'size' must be a positive integer")
        if create:
            if size == 0:
                raise ValueError("'size' must be a positive number different from zero")
        if name is None and not create:
            raise ValueError("'name' can only be None if create=True")
        client = _default_client()
        if create:
            if name is None:
                while True:
                    candidate = _make_name()
                    try:
                        self._chunk = client.create(candidate, np.uint8, size)
                    except AlreadyExistsError:
                        continue
                    name = candidate
                    break
            else:
                self._chunk = client.create(_chunk_name(name), np.uint8, size)
        else:
            self._chunk = client.open(_chunk_name(name))
        self._name = name
        self._buf = self._chunk.buf
        self._size = self._buf.nbytes

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass

    def __reduce__(self):
        return (self.__class__, (self.name, False, self.size))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.name!r}, size={self.size})"

    @property
    def buf(self) -> memoryview | None:
        "A memoryview of contents of the shared memory block."
        return self._buf

    @property
    def name(self) -> str | None:
        "Unique name that identifies the shared memory block."
        return self._name

    @property
    def size(self) -> int:
        "Size in bytes."
        return self._size

    def close(self) -> None:
        """Closes access to the shared memory from this instance but does
        not destroy the shared memory block."""
        if self._buf is not None:
            self._buf.release()  # BufferError while the memoryview itself is exported, as there
            self._buf = None
        if self._chunk is not None:
            self._chunk.close()
            self._chunk = None

    def unlink(self) -> None:
        """Requests that the underlying shared memory block be destroyed.

        Call it once, from one process; mappings of the block, here and
        elsewhere, stay valid until they are closed."""
        if self._name is not None:
            _default_client().remove(_chunk_name(self._name))
