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
