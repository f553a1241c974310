"""The errors the clinical core raises; the web layer maps each to one HTTP answer."""

from __future__ import annotations


class ClinicalError(Exception):
    """Base class of every error raised by ketacare.clinical."""


class InvalidInput(ClinicalError, ValueError):  # noqa: N818 - public name fixed by the API contract
    """An argument is missing, malformed or out of range; `field` names the item or field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ProtocolViolation(ClinicalError):  # noqa: N818 - public name fixed by the API contract
    """A request breaks a protocol rule that a prescriber may review; `code` is machine-readable."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class HardStop(ClinicalError):  # noqa: N818 - public name fixed by the API contract
    """A dose or action that no override may pass (above a ceiling or into anesthetic doses)."""

    def __init__(self, reason: str, *, code: str = "hard_stop") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class DataError(ClinicalError):
    """A packaged data file is malformed; the message names the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem
