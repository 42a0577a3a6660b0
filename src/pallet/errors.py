"""The one exception tree of pallet.

Every error the core raises is a PalletError. Each class carries the HTTP status
the API answers with; exit codes are CLI policy and live in pallet.cli.main
(flag errors 125, run/create 125/126/127, most verbs 1), except where a class
fixes one because Docker does (a command not found in the container is 127 for
every verb that runs one).

    PalletError                  500  something went wrong
    ├── InvalidArgument          400  the request itself is wrong
    │   ├── UsageError           400  flag or argument errors (exit 125)
    │   └── InvalidReference     400  an image reference that does not parse
    ├── Denied                   401  a registry refused the credentials
    ├── NotFound                 404  no such image, container, volume, layer
    ├── Conflict                 409  the request clashes with current state
    │   └── AlreadyExists        409  a name is taken
    ├── NotModified              304  nothing to do (the API's start of a running container)
    ├── DataCorrupted            500  stored or received bytes fail their digest
    ├── Unavailable              503  a needed outside program or service is missing
    │   └── StorageFull          507  no space left where the store writes
    ├── NotImplemented           501  the container's setup does not offer it (logs of `none`)
    └── ContainerCommandError    500  the container's command could not run (126/127)

Foreign exceptions (sqlite3, OSError from tar, runc's stderr) are translated at
the module that meets them, always with ``raise ... from exc``; the one that can
meet a command anywhere, a full disk, is translated once for every edge by
`translate` (the CLI's last handler calls it).
"""
from __future__ import annotations


class PalletError(Exception):
    status = 500
    exit_code: int | None = None  # None: the CLI's per-verb policy decides

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgument(PalletError):
    status = 400


class UsageError(InvalidArgument):
    exit_code = 125


class InvalidReference(InvalidArgument):
    pass


class Denied(PalletError):
    """A registry refused our credentials (its 401/403)."""
    status = 401


class NotFound(PalletError):
    status = 404


class Conflict(PalletError):
    status = 409


class AlreadyExists(Conflict):
    pass


class NotModified(PalletError):
    status = 304


class DataCorrupted(PalletError):
    status = 500


class Unavailable(PalletError):
    status = 503


class StorageFull(Unavailable):
    status = 507


_ENOSPC, _EDQUOT, _SQLITE_FULL = 28, 122, 13


def translate(exc: BaseException, db_path=None) -> PalletError | None:
    """A foreign exception any command can meet anywhere, as the PalletError it means (a full
    disk: ENOSPC/EDQUOT, SQLite's SQLITE_FULL); None when it is a bug."""
    if isinstance(exc, OSError) and exc.errno in (_ENOSPC, _EDQUOT):
        where = exc.filename if exc.filename is not None else "the store"
        return StorageFull(f"{where}: no space left on device")
    if getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL:
        return StorageFull(f"{db_path or 'the metadata database'}: no space left on device")
    return None


class NotImplemented(PalletError):  # noqa: A001 - moby's errdefs.NotImplemented
    status = 501


class ContainerCommandError(PalletError):
    """The container's process could not be started: 126 cannot invoke, 127 not found."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code
