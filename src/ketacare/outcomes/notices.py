"""Safety-alert notices: tell the care team once that an alert is open; naming no patient."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from ketacare.accounts.models import Membership, User
from ketacare.accounts.permissions import PERMISSION_TABLE, Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.outcomes.models import (
    SafetyAlert,
)

logger = logging.getLogger(__name__)


SYSTEM_USERNAME = "ketacare-worker"


def alert_recipients(*, clinic_id: int) -> list[User]:
    """Members of the clinic whose role sees safety alerts and who have an e-mail address."""
    roles = PERMISSION_TABLE[Permission.ALERT_VIEW]
    return [
        m.user
        for m in Membership.objects.filter(
            clinic_id=clinic_id, is_active=True, user__is_active=True, role__in=roles
        )
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__username")
    ]


def alert_notify_staff_once(*, alert_id: int, now: datetime) -> bool:
    """Tell the clinic's care team a safety alert is open; one notice per alert, ever.

    The notice names no patient and no answer: it asks staff to sign in.
    """
    with transaction.atomic():
        claimed = SafetyAlert.objects.filter(pk=alert_id, staff_notified_at__isnull=True).update(
            staff_notified_at=now
        )
        if not claimed:
            return False
        alert = SafetyAlert.objects.select_related("clinic").get(pk=alert_id)
        recipients = [u.email for u in alert_recipients(clinic_id=alert.clinic_id)]
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            object_type="safety_alert",
            object_id=alert.pk,
            patient_id=alert.patient_id,
            clinic_id=alert.clinic_id,
            username=SYSTEM_USERNAME,
            detail={"change": "staff_notified", "recipients": len(recipients)},
        )
        if recipients:
            url = f"{settings.KETACARE_PUBLIC_URL}/outcomes/alerts/{alert.pk}/"
            send_mail(
                f"[KetaCare] {alert.get_severity_display()} safety alert open at "
                f"{alert.clinic.name}",
                "A patient's answers opened a safety alert. Sign in to KetaCare to see it, "
                f"acknowledge it and act:\n\n{url}\n",
                None,
                recipients,
            )
    return True


def alerts_notify_pending(*, now: datetime) -> int:
    """Send any staff notice that was not sent (e.g. the server stopped before it queued)."""
    pending = SafetyAlert.objects.filter(staff_notified_at__isnull=True).values_list(
        "pk", flat=True
    )
    return sum(alert_notify_staff_once(alert_id=pk, now=now) for pk in list(pending))
