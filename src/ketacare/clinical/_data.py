"""Reading the packaged TOML data and validating it key by key, so a bad file names file and key."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, NoReturn

from ketacare.clinical.errors import DataError

DATA_PACKAGE = "ketacare.clinical"
SOURCES_FILE = "sources.toml"


@dataclass(frozen=True)
class Source:
    """One bibliographic source that data items cite by id."""

    id: str
    short: str
    citation: str


@dataclass(frozen=True)
class Citation:
    """Where a rule or number comes from: source ids, an optional locator, and if it is policy."""

    source_ids: tuple[str, ...]
    note: str | None = None
    policy: bool = False

    def render(self) -> str:
        """Render the citation as one line for people, e.g. 'SPRAVATO PI §4 (policy default)'."""
        shorts = "; ".join(load_sources()[source_id].short for source_id in self.source_ids)
        text = f"{shorts}: {self.note}" if self.note else shorts
        return f"{text} [policy default: clinic policy]" if self.policy else text


class Node:
    """A table of a data file, remembering file and key path; every accessor validates its value."""

    def __init__(self, raw: Mapping[str, Any], file: str, path: str = "") -> None:
        self.raw = raw
        self.file = file
        self.path = path
        self._seen: set[str] = set()

    def key(self, key: str) -> str:
        """The full dotted key of a child, for error messages."""
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> NoReturn:
        """Raise a DataError naming this file and the child key."""
        raise DataError(self.file, self.key(key), problem)

    def has(self, key: str) -> bool:
        """Whether the key is present."""
        return key in self.raw

    def _get(self, key: str) -> Any:
        self._seen.add(key)
        if key not in self.raw:
            self.fail(key, "missing required key")
        return self.raw[key]

    def text(self, key: str, *, choices: Sequence[str] | None = None) -> str:
        """A required non-empty string, optionally one of `choices`."""
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            self.fail(key, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def opt_text(self, key: str) -> str | None:
        """An optional non-empty string."""
        self._seen.add(key)
        return self.text(key) if key in self.raw else None

    def integer(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        """A required integer within the given inclusive bounds."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer, got {value!r}")
        number: int = value
        self._check_bounds(key, number, minimum, maximum)
        return number

    def opt_integer(
        self, key: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """An optional integer within the given inclusive bounds."""
        self._seen.add(key)
        return self.integer(key, minimum=minimum, maximum=maximum) if key in self.raw else None

    def decimal(
        self, key: str, *, minimum: Decimal | None = None, maximum: Decimal | None = None
    ) -> Decimal:
        """A required number, returned as Decimal (floats are parsed as Decimal, never binary)."""
        return self._as_decimal(key, self._get(key), minimum, maximum)

    def decimal_pair(self, key: str, *, minimum: Decimal | None = None) -> tuple[Decimal, Decimal]:
        """A required [low, high] pair of numbers with low <= high."""
        value = self._get(key)
        if not isinstance(value, list) or len(value) != 2:
            self.fail(key, f"expected [low, high], got {value!r}")
        low = self._as_decimal(f"{key}[0]", value[0], minimum, None)
        high = self._as_decimal(f"{key}[1]", value[1], low, None)
        return low, high

    def _as_decimal(
        self, key: str, value: object, minimum: Decimal | None, maximum: Decimal | None
    ) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(key, f"expected a number, got {value!r}")
        number = Decimal(value)
        self._check_bounds(key, number, minimum, maximum)
        return number

    def opt_decimal(
        self, key: str, *, minimum: Decimal | None = None, maximum: Decimal | None = None
    ) -> Decimal | None:
        """An optional number as Decimal."""
        self._seen.add(key)
        return self.decimal(key, minimum=minimum, maximum=maximum) if key in self.raw else None

    def day(self, key: str) -> date:
        """A required TOML date (YYYY-MM-DD, no time)."""
        value = self._get(key)
        if not isinstance(value, date) or isinstance(value, datetime):
            self.fail(key, f"expected a date (YYYY-MM-DD), got {value!r}")
        return value

    def opt_day(self, key: str) -> date | None:
        """An optional TOML date."""
        self._seen.add(key)
        return self.day(key) if key in self.raw else None

    def boolean(self, key: str, default: bool | None = None) -> bool:
        """A boolean; optional when a default is given."""
        if default is not None and key not in self.raw:
            self._seen.add(key)
            return default
        value = self._get(key)
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {value!r}")
        return value

    def texts(self, key: str, *, allow_empty: bool = False) -> tuple[str, ...]:
        """A required list of non-empty strings."""
        value = self._get(key)
        if not isinstance(value, list) or (not value and not allow_empty):
            self.fail(key, f"expected a {'' if allow_empty else 'non-empty '}list of strings")
        for index, entry in enumerate(value):
            if not isinstance(entry, str) or not entry.strip():
                self.fail(f"{key}[{index}]", f"expected a non-empty string, got {entry!r}")
        return tuple(value)

    def integers(self, key: str, *, minimum: int | None = None) -> tuple[int, ...]:
        """A required non-empty list of integers."""
        value = self._get(key)
        if not isinstance(value, list) or not value:
            self.fail(key, "expected a non-empty list of integers")
        for index, entry in enumerate(value):
            if isinstance(entry, bool) or not isinstance(entry, int):
                self.fail(f"{key}[{index}]", f"expected an integer, got {entry!r}")
            self._check_bounds(f"{key}[{index}]", entry, minimum, None)
        return tuple(value)

    def child(self, key: str) -> Node:
        """A required sub-table."""
        value = self._get(key)
        if not isinstance(value, dict):
            self.fail(key, "expected a table")
        return Node(value, self.file, self.key(key))

    def opt_child(self, key: str) -> Node | None:
        """An optional sub-table."""
        self._seen.add(key)
        return self.child(key) if key in self.raw else None

    def children(self, key: str, *, allow_empty: bool = False) -> list[Node]:
        """A required array of tables."""
        value = self._get(key)
        if not isinstance(value, list) or (not value and not allow_empty):
            self.fail(key, "expected a non-empty array of tables")
        nodes = []
        for index, entry in enumerate(value):
            if not isinstance(entry, dict):
                self.fail(f"{key}[{index}]", "expected a table")
            nodes.append(Node(entry, self.file, self.key(f"{key}[{index}]")))
        return nodes

    def opt_children(self, key: str) -> list[Node]:
        """An optional array of tables (empty when absent)."""
        self._seen.add(key)
        return self.children(key, allow_empty=True) if key in self.raw else []

    def table_items(self, key: str) -> Iterator[tuple[str, Node]]:
        """The sub-tables of a table of tables, as (name, node) pairs."""
        table = self.child(key)
        for name, value in table.raw.items():
            table._seen.add(name)
            if not isinstance(value, dict):
                table.fail(name, "expected a table")
            yield name, Node(value, self.file, table.key(name))

    def citation(self, key: str = "source") -> Citation:
        """The citation of this table: `source` ids (all known), `source_note`, and `policy`."""
        ids = self.texts(key)
        known = load_sources()
        for index, source_id in enumerate(ids):
            if source_id not in known:
                self.fail(
                    f"{key}[{index}]", f"unknown source id {source_id!r} (not in {SOURCES_FILE})"
                )
        return Citation(ids, self.opt_text("source_note"), self.boolean("policy", default=False))

    def close(self) -> None:
        """Reject keys nobody read: a misspelt key must not be silently ignored."""
        unknown = sorted(set(self.raw) - self._seen)
        if unknown:
            self.fail(unknown[0], "unknown key (misspelt?)")

    def _check_bounds(
        self,
        key: str,
        value: Decimal | int,
        minimum: Decimal | int | None,
        maximum: Decimal | int | None,
    ) -> None:
        if minimum is not None and value < minimum:
            self.fail(key, f"{value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            self.fail(key, f"{value} is above the maximum {maximum}")


def parse_document(text: str, file: str) -> Node:
    """Parse TOML text (numbers with a decimal point become Decimal) into a validating Node."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise DataError(file, "(syntax)", str(error)) from error
    return Node(raw, file)


def read_document(name: str) -> Node:
    """Read a packaged data file by its path under data/, e.g. 'protocols/iv_induction_6x.toml'."""
    resource = resources.files(DATA_PACKAGE).joinpath("data", *name.split("/"))
    return parse_document(resource.read_text(encoding="utf-8"), name)


def list_documents(folder: str) -> list[str]:
    """The names of the packaged .toml files under data/<folder>, sorted."""
    directory = resources.files(DATA_PACKAGE).joinpath("data", folder)
    return sorted(
        f"{folder}/{entry.name}" for entry in directory.iterdir() if entry.name.endswith(".toml")
    )


def parse_sources(document: Node) -> dict[str, Source]:
    """Validate the bibliography file into sources by id."""
    sources = {}
    for source_id, node in document.table_items("sources"):
        sources[source_id] = Source(source_id, node.text("short"), node.text("citation"))
        node.close()
    document.close()
    return sources


@cache
def load_sources() -> dict[str, Source]:
    """The bibliography every data file cites, loaded once."""
    return parse_sources(read_document(SOURCES_FILE))
