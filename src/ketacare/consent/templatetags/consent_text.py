"""Render a consent text for reading: headings, paragraphs and bullet points from plain text.

The stored text (and its hash) is exactly what was published; this only lays it out. Blank lines
separate blocks; a block whose first line is short and has no full stop starts with a heading;
lines starting with "- " are bullet points; other line breaks inside a block are soft wraps.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

HEADING_MAX = 60


def _is_heading(line: str, rest: list[str]) -> bool:
    return bool(rest) and len(line) <= HEADING_MAX and not line.rstrip().endswith((".", ":", ","))


def _render_block(lines: list[str]) -> str:
    html: list[str] = []
    if _is_heading(lines[0], lines[1:]) and not lines[0].startswith("- "):
        html.append(f"<h3>{escape(lines[0].strip())}</h3>")
        lines = lines[1:]
    paragraph: list[str] = []
    bullets: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            html.append(f"<p>{escape(' '.join(paragraph))}</p>")
            paragraph.clear()

    def flush_bullets() -> None:
        if bullets:
            items = "".join(f"<li>{escape(item)}</li>" for item in bullets)
            html.append(f"<ul>{items}</ul>")
            bullets.clear()

    for raw in lines:
        line = raw.strip()
        if raw.lstrip().startswith("- "):
            flush_paragraph()
            bullets.append(line[2:].strip())
        elif bullets and raw.startswith(" "):
            bullets[-1] = f"{bullets[-1]} {line}"
        else:
            flush_bullets()
            paragraph.append(line)
    flush_paragraph()
    flush_bullets()
    return "".join(html)


@register.filter
def consent_text(body: str) -> SafeString:
    """The consent text as HTML (every piece of the text escaped)."""
    blocks: list[list[str]] = [[]]
    for line in body.replace("\r\n", "\n").split("\n"):
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    rendered = "".join(_render_block(block) for block in blocks if block)
    return mark_safe(rendered)  # noqa: S308 - every fragment above is escaped
