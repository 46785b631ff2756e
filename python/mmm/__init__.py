"""mmm: named, typed shared-memory chunks across processes, from Python.

A chunk is an array of ``count`` elements of one type that mmmd, the
registry daemon, creates in shared memory; any process on the host may open
it by name (mmm checks who may, and with which type) and read and write the
same memory. From Python, a chunk is a numpy array with no copy::

    import numpy as np, mmm

    client = mmm.Client()
    coord = np.dtype([("x", "<i4"), ("y", "<i4")])
    with client.create("coords", coord, 3, type_name="Coordinate") as c:
        c.array[0] = (3, 9)          # numpy view of the shared memory
        c.write(1, (1, 2))           # checked, untorn
        c.read(1)
    with client.open("coords", readonly=True) as r:   # dtype from the chunk's schema
        r.array["x"].sum()
    client.remove("coords")

``mmm.SharedMemory`` is a drop-in for ``multiprocessing.shared_memory.SharedMemory``.
Errors are ``mmm.Error`` subclasses that also derive from the matching
builtin (``FileNotFoundError``, ``FileExistsError``, ``PermissionError``,
``TimeoutError``, ``ConnectionError``, ``IndexError``, ``TypeError``,
``ValueError``). See the README's "Python" section.
"""

from ._errors import (  # noqa: F401  (re-exported)
    ERROR_CLASSES,
    AlreadyExistsError,
    BusyError,
    CorruptHeaderError,
    DaemonUnavailableError,
    Errc,
    Error,
    InternalError,
    InvalidArgumentError,
    InvalidNameError,
    IoError,
    LimitExceededError,
    NoSpaceError,
    NotFoundError,
    OutOfRangeError,
    OwnerDiedError,
    PermissionDeniedError,
    ProtocolError,
    QuotaExceededError,
    SizeOverflowError,
    TimeoutError,
    TypeMismatchError,
)
from ._mmm import (  # noqa: F401
    Attachment,
    Chunk,
    ChunkInfo,
    Client,
    Lock,
    Schema,
    Stats,
    dtype_of,
    schema_of,
)
from .shared_memory import SharedMemory  # noqa: F401

__all__ = [
    "Client", "Chunk", "ChunkInfo", "Attachment", "Lock", "Schema", "Stats", "SharedMemory",
    "schema_of", "dtype_of", "Errc", "Error", "ERROR_CLASSES",
    "InvalidNameError", "InvalidArgumentError", "SizeOverflowError", "NotFoundError",
    "AlreadyExistsError", "TypeMismatchError", "PermissionDeniedError",
    "DaemonUnavailableError", "ProtocolError", "NoSpaceError", "QuotaExceededError",
    "CorruptHeaderError", "TimeoutError", "LimitExceededError", "OutOfRangeError",
    "OwnerDiedError", "IoError", "InternalError", "BusyError",
]
