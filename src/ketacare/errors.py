"""Errors the Django shell raises; the API and pages map each to one HTTP answer."""


class KetaCareError(Exception):
    """A refusal with a message for the user and, where it applies, the field at fault."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or type(self).__name__


class Conflict(KetaCareError):
    """Someone else changed the record since it was read (HTTP 409)."""

    status_code = 409


class Refused(KetaCareError):
    """A rule refuses the request as asked (HTTP 422), e.g. a dose booked too soon."""

    status_code = 422
