"""Template context: the active clinic, role and what the role may do."""

from django.http import HttpRequest

from ketacare.accounts.permissions import Permission


def active_clinic(request: HttpRequest) -> dict[str, object]:
    """Expose the actor and a `may` map (permission name → bool) to templates."""
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"actor": None, "may": {}}
    may = {p.name.lower(): actor.can(p) for p in Permission}
    return {"actor": actor, "may": may}
