"""SMART-style scopes: what a token may read, on top of what its user's role may.

Accepted: `user/` and `system/` contexts (SMART v1 `.read`/`.*` and v2 `.rs`/`.cruds`), a
resource type or `*`. `patient/` scopes need a launch context that API tokens do not have, so
they are refused when a token is given scopes. Every FHIR read needs both the role's permission
and a scope that covers the type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCOPE_PATTERN = re.compile(r"^(user|system)/(\*|[A-Z][A-Za-z]+)\.(read|\*|[cruds]+)$")
DEFAULT_SCOPES = "user/*.read"


class ScopeError(ValueError):
    """A scope string KetaCare cannot grant."""


@dataclass(frozen=True)
class Scopes:
    """A parsed scope set."""

    grants: frozenset[tuple[str, str, str]]

    def allows_read(self, resource_type: str) -> bool:
        """Whether some scope lets the token read (and search) this type."""
        return any(
            kind in {"*", resource_type} and (access in {"read", "*"} or "r" in access)
            for _, kind, access in self.grants
        )

    def allows_system_export(self) -> bool:
        """Bulk export at system level needs a `system/` read scope."""
        return any(
            context == "system" and (access in {"read", "*"} or "r" in access)
            for context, _, access in self.grants
        )

    def text(self) -> str:
        return " ".join(sorted(f"{c}/{k}.{a}" for c, k, a in self.grants))


def parse_scopes(value: str, known_types: set[str] | None = None) -> Scopes:
    """Parse a space-separated scope string; raise `ScopeError` naming the first bad scope."""
    grants = set()
    for scope in value.split():
        match = SCOPE_PATTERN.match(scope)
        if not match:
            raise ScopeError(
                f"'{scope}' is not a scope KetaCare grants (user/ or system/, e.g. user/*.read)"
            )
        context, kind, access = match.groups()
        if known_types is not None and kind != "*" and kind not in known_types:
            raise ScopeError(f"'{scope}' names a resource type this server does not serve")
        grants.add((context, kind, access))
    if not grants:
        raise ScopeError("give at least one scope")
    return Scopes(frozenset(grants))
