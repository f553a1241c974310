"""The portal links of a programme: the patient's link for home doses, the sitter's own link."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.athome.services.programme import _programme
from ketacare.followup.portal import IssuedLink, portal_link_issue
from ketacare.kernel import clock
from ketacare.outcomes.models import PortalLinkPurpose

# The links last the programme (8 sessions about a week apart) and a margin (clinic policy).
LINK_LIFETIME = timedelta(days=70)


@transaction.atomic
def programme_links_issue(*, actor: Actor, programme_id: int) -> tuple[IssuedLink, IssuedLink]:
    """Issue the patient's link and the sitter's own link (each bound to this patient)."""
    actor.require(Permission.ATHOME_ENROL)
    programme = _programme(actor, programme_id)
    now = clock.now()
    issued = tuple(
        portal_link_issue(
            actor=actor,
            patient=programme.patient,
            purpose=purpose,
            assignments=[],
            channel="qr",
            expires_at=now + LINK_LIFETIME,
            now=now,
        )  # fmt: skip
        for purpose in (PortalLinkPurpose.HOME_DOSES, PortalLinkPurpose.SITTER)
    )
    return issued[0], issued[1]
