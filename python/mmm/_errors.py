"""mmm.Error and its subclasses: one per mmm::Errc, each also deriving from
the builtin exception that Python code already catches for that case."""

from __future__ import annotations

import builtins
import enum
import errno as _errno


class Errc(enum.IntEnum):
    """The codes of mmm::Errc (include/mmm/error.hpp), with the same values."""

    ok = 0
    invalid_name = 1
    invalid_argument = 2
    size_overflow = 3
    not_found = 4
    already_exists = 5
    type_mismatch = 6
    permission_denied = 7
    daemon_unavailable = 8
    protocol_error = 9
    no_space = 10
    quota_exceeded = 11
    corrupt_header = 12
    timeout = 13
    limit_exceeded = 14
    out_of_range = 15
    owner_died = 16
    io_error = 17
    internal = 18
    busy = 19


class Error(Exception):
    """A failure of mmm: ``code`` (an Errc), ``chunk`` (the chunk's name, or
    ''), ``message`` (what went wrong) and ``hint`` (what to do next; may be
    ''). str() has all of them. Subclasses also derive from the matching
    builtin exception (FileNotFoundError for Errc.not_found, ...)."""

    code: Errc = Errc.internal
    _errno: int | None = None

    def __init__(self, what: str = "", code: int | None = None, chunk: str = "",
                 message: str = "", hint: str = "") -> None:
        super().__init__(what)
        if code is not None:
            self.code = Errc(code)
        self.chunk = chunk
        self.message = message or what
        self.hint = hint
        if isinstance(self, OSError):
            # What code that catches OSError looks at: errno, strerror, filename.
            self.errno = self._errno
            self.strerror = self.message
            self.filename = chunk or None

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        return (type(self), (str(self), int(self.code), self.chunk, self.message, self.hint))


def _subclass(code: Errc, name: str, builtin: type | None, err: int | None, doc: str) -> type:
    bases = (Error,) if builtin is None else (Error, builtin)
    cls = type(name, bases, {"code": code, "_errno": err, "__doc__": doc, "__module__": "mmm"})
    return cls


InvalidNameError = _subclass(Errc.invalid_name, "InvalidNameError", ValueError, None,
                             "A chunk name that is not 1 to 128 of [A-Za-z0-9._-] (or starts with '.').")
InvalidArgumentError = _subclass(Errc.invalid_argument, "InvalidArgumentError", ValueError, None,
                                 "A bad count, mode, option, dtype, or a closed chunk.")
SizeOverflowError = _subclass(Errc.size_overflow, "SizeOverflowError", None, None,
                              "count * element size does not fit the address space.")
NotFoundError = _subclass(Errc.not_found, "NotFoundError", FileNotFoundError, _errno.ENOENT,
                          "No chunk of that name (or it was deleted).")
AlreadyExistsError = _subclass(Errc.already_exists, "AlreadyExistsError", FileExistsError,
                               _errno.EEXIST, "A create of a name that exists.")
TypeMismatchError = _subclass(Errc.type_mismatch, "TypeMismatchError", TypeError, None,
                              "The chunk holds another element type than the one asked for.")
PermissionDeniedError = _subclass(Errc.permission_denied, "PermissionDeniedError",
                                  PermissionError, _errno.EACCES,
                                  "The chunk's mode or the daemon refuses this process, or a "
                                  "write to a read-only mapping.")
DaemonUnavailableError = _subclass(Errc.daemon_unavailable, "DaemonUnavailableError",
                                   ConnectionError, _errno.ECONNREFUSED,
                                   "mmmd is not running, went away, or is not one to trust.")
ProtocolError = _subclass(Errc.protocol_error, "ProtocolError", None, None,
                          "A malformed or incompatible message between the library and mmmd.")
NoSpaceError = _subclass(Errc.no_space, "NoSpaceError", None, None,
                         "/dev/shm cannot hold the chunk.")
QuotaExceededError = _subclass(Errc.quota_exceeded, "QuotaExceededError", None, None,
                               "One of mmmd's quotas (--max-bytes, --max-chunks, "
                               "--max-chunk-bytes) refuses the chunk.")
CorruptHeaderError = _subclass(Errc.corrupt_header, "CorruptHeaderError", None, None,
                               "A chunk's description or segment failed validation.")
TimeoutError = _subclass(Errc.timeout, "TimeoutError", builtins.TimeoutError, _errno.ETIMEDOUT,
                         "A wait ran out of time.")
LimitExceededError = _subclass(Errc.limit_exceeded, "LimitExceededError", None, None,
                               "Too many connections or open chunks, or this process's "
                               "open-file limit.")
OutOfRangeError = _subclass(Errc.out_of_range, "OutOfRangeError", IndexError, None,
                            "An index past the end, or a resize beyond max_count.")
OwnerDiedError = _subclass(Errc.owner_died, "OwnerDiedError", None, None,
                           "A writer died mid-write; the element may be torn.")
IoError = _subclass(Errc.io_error, "IoError", None, None,
                    "An unexpected system call failure.")
InternalError = _subclass(Errc.internal, "InternalError", None, None,
                          "A bug in mmm: please report it.")
BusyError = _subclass(Errc.busy, "BusyError", None, None,
                      "Another process holds the single-writer chunk's write lease.")

_BY_CODE: dict[int, type] = {
    cls.code: cls
    for cls in (InvalidNameError, InvalidArgumentError, SizeOverflowError, NotFoundError,
                AlreadyExistsError, TypeMismatchError, PermissionDeniedError,
                DaemonUnavailableError, ProtocolError, NoSpaceError, QuotaExceededError,
                CorruptHeaderError, TimeoutError, LimitExceededError, OutOfRangeError,
                OwnerDiedError, IoError, InternalError, BusyError)
}

ERROR_CLASSES: tuple[type, ...] = tuple(_BY_CODE.values())


def _from_native(code: int, chunk: str, message: str, hint: str, what: str) -> Error:
    """Called by the extension to turn an mmm::Error into its Python class."""
    cls = _BY_CODE.get(code, Error)
    return cls(what, code if code in Errc._value2member_map_ else int(Errc.internal),
               chunk, message, hint)
