"""iCalendar (RFC 5545) text for the staff feed: written by hand, no dependency.

Text values are escaped (backslash, semicolon, comma, newline), lines end in CRLF and are
folded at 75 octets without splitting a UTF-8 character; times are UTC ("Z" form).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_LINE_OCTETS = 75
CRLF = "\r\n"


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT: a stable UID, UTC times, and text with no patient names."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"  # RFC 5545 3.8.1.11: TENTATIVE, CONFIRMED or CANCELLED


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form, e.g. 20260105T143000Z (RFC 5545 3.3.5, form 2)."""
    if moment.tzinfo is None:
        raise ValueError("iCalendar times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold a content line at 75 octets, continuation lines starting with a space (3.1)."""
    encoded = line.encode()
    if len(encoded) <= MAX_LINE_OCTETS:
        return line
    parts: list[str] = []
    current = ""
    limit = MAX_LINE_OCTETS
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = " "
            limit = MAX_LINE_OCTETS  # the leading space counts toward the 75
        current += char
    parts.append(current)
    return CRLF.join(parts)


def render_calendar(
    events: Iterable[FeedEvent], *, name: str, stamped_at: datetime, product: str
) -> str:
    """A VCALENDAR with one VEVENT per event, CRLF line endings, every line folded."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{product}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    stamp = utc_stamp(stamped_at)
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(event.starts_at)}",
            f"DTEND:{utc_stamp(event.ends_at)}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{escape_text(event.location)}")
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        lines += [f"STATUS:{event.status}", "TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return CRLF.join(fold(line) for line in lines) + CRLF
