"""Errors that carry a sentence a user can act on."""


class UserFacingError(Exception):
    """An error whose message is shown to the user as it is.

    Anything else that escapes is a bug: logged with its traceback and shown
    as "something went wrong".
    """

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class ModelUnavailable(UserFacingError):
    """A model is missing, partial or corrupt."""


class EngineError(UserFacingError):
    """The model engine could not do what was asked."""


class EngineCancelled(EngineError):
    """The request was stopped by the user before it finished."""


class DiskFull(UserFacingError):
    """A write failed because the disk (or the user's quota) is full."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, is a full disk.

    SQLite says so with its own code (SQLITE_FULL), the OS with ENOSPC or
    EDQUOT; libraries wrap either in their own exceptions, so the chain is walked.
    """
    import errno
    import sqlite3

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        # Libraries that keep only the message: chromadb's Rust core reports SQLite's
        # "(code: 13) database or disk is full" as an InternalError.
        if any(words in str(exc) for words in ("database or disk is full", "No space left on device")):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
