"""The bounds every value must meet where it enters KetaCare: API schemas, forms, pages.

One place says what a plausible date, time, number and text are; API schemas inherit
`BoundedIn`, forms `BoundedForm`, pages read parameters with `query_*`. A value out of bounds
answers 4xx naming the field, before anything is written. Fields narrow these with the
annotated types (`DateBetween(...)`, `Count`, `RecordId`).
"""

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from django import forms
from django.http import QueryDict
from ninja import Schema
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

# A plausible clinical date: no patient, appointment or record predates 1900 or follows 2100.
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
EARLIEST_DATETIME = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_DATETIME = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
# Database integer ranges: BigIntegerField/BigAutoField, and IntegerField.
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
# Text may hold tab, line feed and carriage return; no other control character
# (NUL breaks PostgreSQL text, the rest only hide content from the reader).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class OutOfBounds(ValueError):
    """A value outside what KetaCare accepts; the message says what is allowed."""


def check_value(value: Any, *, earliest: date = EARLIEST, latest: date = LATEST) -> Any:
    """Return the value if every date, time, number and text in it is in bounds; else raise."""
    if isinstance(value, datetime):
        try:
            moment = value.astimezone(UTC) if value.tzinfo is not None else value
        except (OverflowError, ValueError) as error:
            raise OutOfBounds("date and time out of range") from error
        if not earliest <= moment.date() <= latest:
            raise OutOfBounds(f"must be between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}")
    elif isinstance(value, date):
        if not earliest <= value <= latest:
            raise OutOfBounds(f"must be between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}")
    elif isinstance(value, bool) or value is None or isinstance(value, time):
        pass
    elif isinstance(value, int):
        if not -BIGINT_MAX <= value <= BIGINT_MAX:
            raise OutOfBounds("number out of range")
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > 1e15:
            raise OutOfBounds("number out of range")
    elif isinstance(value, str):
        if CONTROL_CHARACTERS.search(value):
            raise OutOfBounds("must not contain control characters")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_value(key, earliest=earliest, latest=latest)
            check_value(item, earliest=earliest, latest=latest)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_value(item, earliest=earliest, latest=latest)
    return value


def in_range(value: date | None) -> bool:
    """Whether a stored date or time lies within the plausible range (pages skip the rest)."""
    if value is None:
        return False
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def _bounded_date(earliest: date, latest: date) -> AfterValidator:
    return AfterValidator(lambda value: check_value(value, earliest=earliest, latest=latest))


def DateBetween(earliest: date, latest: date) -> Any:  # noqa: N802 - reads as a type
    """A date narrower than the default bounds, e.g. a birth date."""
    return Annotated[date, _bounded_date(earliest, latest)]


ClinicalDate = Annotated[date, _bounded_date(EARLIEST, LATEST)]
ClinicalDateTime = Annotated[datetime, _bounded_date(EARLIEST, LATEST)]
RecordId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
Count = Annotated[int, Field(ge=0, le=INT_MAX)]
MAX_PAGE = 1_000_000
Page = Annotated[int, Field(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Field(ge=0, le=INT_MAX)]
CleanText = Annotated[str, AfterValidator(check_value)]


# Paired values that must be ordered: the lower one names the higher one it must stay below.
ORDERED_PAIRS = {"diastolic": "systolic", "diastolic_mmhg": "systolic_mmhg"}


def check_pair(name: str, value: Any, others: Mapping[str, Any]) -> None:
    """Refuse a lower value of an ordered pair (diastolic) that is not below its partner."""
    partner = ORDERED_PAIRS.get(name)
    higher = others.get(partner) if partner else None
    if partner and value is not None and higher is not None and value >= higher:
        raise OutOfBounds(f"must be lower than {partner} (check the order)")


def _check_field(value: Any, info: ValidationInfo) -> Any:
    check_value(value)
    if info.field_name:
        check_pair(info.field_name, value, info.data)
    return value


class BoundedIn(Schema):
    """Base of every API input schema: every field is held to `check_value` and the pairs."""

    @field_validator("*", mode="after")
    @classmethod
    def _in_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_field(value, info)


class BoundedModel(BaseModel):
    """The same bounds for plain pydantic models (chart sections)."""

    @field_validator("*", mode="after")
    @classmethod
    def _in_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_field(value, info)


class BoundsMixin:
    """After Django's own cleaning, every value of a form is held to the same bounds."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}  # type: ignore[misc]
        for name, value in list(cleaned.items()):
            try:
                check_value(value)
                check_pair(name, value, cleaned)
            except OutOfBounds as error:
                self.add_error(name, str(error))  # type: ignore[attr-defined]
        return cleaned


class BoundedForm(BoundsMixin, forms.Form):
    """Base of forms."""


class BoundedModelForm(BoundsMixin, forms.ModelForm):  # type: ignore[type-arg]
    """Base of model forms."""


class BadParameter(ValueError):
    """A page's query parameter is malformed or out of bounds (answers 400 naming it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def query_date(
    params: QueryDict,
    name: str,
    default: date | None = None,
    *,
    earliest: date = EARLIEST,
    latest: date = LATEST,
) -> date | None:
    """A date parameter in bounds, the default when absent; BadParameter when malformed."""
    raw = params.get(name, "")
    if not raw:
        return default
    try:
        return check_value(  # type: ignore[no-any-return]
            date.fromisoformat(raw), earliest=earliest, latest=latest
        )
    except (ValueError, OverflowError) as error:
        raise BadParameter(
            name, f"must be a date between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}"
        ) from error


def query_datetime(params: QueryDict, name: str) -> datetime | None:
    """A date-time parameter in bounds, or None when absent; BadParameter when malformed."""
    raw = params.get(name, "")
    if not raw:
        return None
    try:
        return check_value(datetime.fromisoformat(raw))  # type: ignore[no-any-return]
    except (ValueError, OverflowError) as error:
        raise BadParameter(name, "must be a date and time between 1900 and 2100") from error


def query_int(
    params: QueryDict, name: str, default: int | None = None, *, low: int = 1, high: int = INT_MAX
) -> int | None:
    """A whole-number parameter within [low, high], the default when absent."""
    raw = params.get(name, "")
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def parse_record_id(value: object) -> int | None:
    """A path id as an int when it can name a database row, else None (answer not found)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= BIGINT_MAX else None
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= BIGINT_MAX else None


def first_control_character_field(data: QueryDict) -> str | None:
    """The first parameter (name or value) holding a control character, if any."""
    for name, values in data.lists():
        if CONTROL_CHARACTERS.search(name):
            return "parameter name"
        if any(CONTROL_CHARACTERS.search(value) for value in values if isinstance(value, str)):
            return str(name)
    return None
