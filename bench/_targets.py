"""What `make bench` requests from a network: every readable page and API operation, and writes.

Runs as a child in the network's environment (`python -m bench._targets WRITES`): picks the
measured clinic (synth-1, a fifth of the patients) and one of its patients with a full history,
fills every route's path parameters from that patient's records, signs in one member of staff per
role (a web session and an API token), counts the queries each GET makes through Django's test
client, and prepares the writes (live sessions for readings and dose orders, portal links with
answers saved). Prints one JSON document.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

CLINIC = "synth-1"
ROLE_ORDER = ("prescriber", "nurse", "admin", "therapist", "front_desk")
# Extra query strings worth measuring: a search, a deep page of a list, a feed window.
VARIANTS = {
    "patient_list": ["?q=Riv"],
}


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    from django.urls import URLPattern, URLResolver

    found: list[tuple[str, Any]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry))
    return found


def _fill(pattern: str, values: dict[str, Any]) -> str | None:
    import re

    names = [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\{(\w+)\}", pattern)]
    if any(values.get(name) is None for name in names):
        return None
    path = re.sub(
        r"<(?:\w+:)?(\w+)>|\{(\w+)\}", lambda m: str(values[m.group(1) or m.group(2)]), pattern
    )
    return "/" + path.lstrip("/")


def _values(clinic: Any, patient: Any) -> dict[str, Any]:
    from ketacare.consent.models import ConsentDocument, ConsentSignature
    from ketacare.outcomes.models import SafetyAlert
    from ketacare.scheduling.models import Appointment, Chair, Course
    from ketacare.screening.models import Screening
    from ketacare.treatment.models import MonitoringEntry, TreatmentSession

    session = TreatmentSession.objects.filter(patient=patient).order_by("-checked_in_at").first()
    signature = ConsentSignature.objects.filter(patient=patient).first()
    document = ConsentDocument.objects.filter(clinic=clinic).first()

    def first_id(rows: Any) -> int | None:
        value: int | None = rows.values_list("id", flat=True).first()
        return value

    return {
        "patient_id": patient.pk,
        "course_id": first_id(Course.objects.filter(patient=patient).order_by("id")),
        "appointment_id": first_id(
            Appointment.objects.filter(patient=patient).order_by("-starts_at")
        ),
        "session_id": session.pk if session else None,
        "monitoring_entry_id": first_id(MonitoringEntry.objects.filter(session=session)),
        "screening_id": first_id(Screening.objects.filter(patient=patient)),
        "signature_id": signature.pk if signature else None,
        "document_id": document.pk if document else None,
        "document_version_id": signature.document_version_id if signature else None,
        "chair_id": first_id(Chair.objects.filter(clinic=clinic)),
        "alert_id": first_id(SafetyAlert.objects.filter(clinic=clinic).order_by("-raised_at")),
    }


def _patient(clinic: Any) -> Any:
    from ketacare.patients.models import Patient
    from ketacare.scheduling.models import Course

    booster = (
        Course.objects.filter(clinic=clinic, kind="booster", status="completed")
        .order_by("id")
        .values_list("patient_id", flat=True)
        .first()
    )
    return (
        Patient.objects.get(pk=booster)
        if booster
        else Patient.objects.filter(clinic=clinic).first()
    )


# The bench prescriber signs dose orders over the API with this password in the re-authentication
# header, as a real client does (the write's time includes checking it).
SIGNING_PASSWORD = "bench-signing-password"  # noqa: S105 - a synthetic network's test password


def _staff(clinic: Any) -> dict[str, Any]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ketacare.accounts.models import Membership
    from ketacare.accounts.second_factor import has_second_factor, mfa_required

    staff = {}
    for membership in (
        Membership.objects.filter(clinic=clinic).select_related("user").order_by("id")
    ):
        staff.setdefault(membership.role, membership.user)
    for user in staff.values():
        # a token is issued only to a user who has the second factor their role needs
        if mfa_required(user) and not has_second_factor(user):
            TOTPDevice.objects.create(user=user, name="Bench authenticator", confirmed=True)
        if not user.check_password(SIGNING_PASSWORD):
            user.set_password(SIGNING_PASSWORD)
            user.save(update_fields=["password"])
    return staff


def _draw(
    clinic: Any, staff: dict[str, Any], nurse: Any, session_id: int, order: Any, at: Any
) -> str:
    """Draw the live session's dose from the clinic's stock (set up once, as the demo does): a
    dose is given only from a container in stock. Returns the lot drawn."""
    import random

    from ketacare.accounts.roles import Role
    from ketacare.kernel import clock
    from ketacare.ledger import demo as ledger_demo

    ledger_demo.load(
        clinic=clinic, staff={Role(role): user for role, user in staff.items()},
        rng=random.Random(1),
    )  # fmt: skip
    with clock.frozen_at(at):
        return ledger_demo.draw_for_dose(nurse, session_id, order, at)


def _signing(actor: Any) -> Any:
    """The actor as after typing their password again in this request (signing services)."""
    import dataclasses

    from ketacare.kernel import clock

    return dataclasses.replace(actor, reauthenticated_at=clock.wall_now())


def _web_session(user: Any, clinic: Any) -> str:
    import time

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.module_loading import import_string

    from ketacare.accounts.middleware import (
        ACTIVE_CLINIC_SESSION_KEY,
        LAST_ACTIVITY_SESSION_KEY,
        SIGNED_IN_AT_SESSION_KEY,
    )
    from ketacare.home.mfa import PASSED_SESSION_KEY

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = next(
        b for b in settings.AUTHENTICATION_BACKENDS if hasattr(import_string(b), "get_user")
    )
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[ACTIVE_CLINIC_SESSION_KEY] = clinic.pk
    store[LAST_ACTIVITY_SESSION_KEY] = store[SIGNED_IN_AT_SESSION_KEY] = int(time.time())
    store[PASSED_SESSION_KEY] = user.pk  # signed in past the second factor, as a user would be
    store.create()
    return str(store.session_key)


def _api_token(user: Any, clinic: Any) -> str:
    from ketacare.accounts.models import ApiToken, hash_token, new_raw_token

    raw = new_raw_token()
    ApiToken.objects.create(
        user=user, clinic=clinic, name="bench", key_hash=hash_token(raw), key_hint=raw[:8]
    )
    return raw


def _reads(
    clinic: Any,
    values: dict[str, Any],
    staff: dict[str, Any],
    cookies: dict[str, str],
    tokens: dict[str, str],
) -> list[dict[str, Any]]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import get_resolver

    from ketacare.accounts.permissions import role_may
    from ketacare.config.api import api

    def role_for(permission: Any) -> str | None:
        if not permission:
            return "prescriber"
        return next((r for r in ROLE_ORDER if r in staff and role_may(r, permission)), None)

    targets: list[dict[str, Any]] = []
    for pattern, entry in _walk(get_resolver().url_patterns):
        if pattern.startswith(("admin/", "api/", "static/", "portal/")) or not entry.name:
            continue
        if entry.name in (
            "login",
            "logout",
            "switch_clinic",
            "healthz",
            "schedule_feed",
            "bench_floor",
        ):
            continue
        path = _fill(pattern, values)
        role = role_for(getattr(entry.callback, "required_permission", None))
        if path is None or role is None:
            continue
        for suffix in ["", *VARIANTS.get(entry.name, [])]:
            targets.append(
                {"name": entry.name + suffix, "kind": "page", "path": path + suffix, "role": role}
            )
    schema = api.get_openapi_schema()
    for api_path, methods in schema["paths"].items():
        spec = methods.get("get")
        if not spec:
            continue
        path = _fill(api_path, values)
        role = role_for(spec.get("x-permission"))
        if path is None or role is None:
            continue
        targets.append(
            {
                "name": "GET " + api_path.removeprefix("/api/v1"),
                "kind": "api",
                "path": path,
                "role": role,
            }
        )
    readable = []
    for target in targets:
        client = Client()
        headers: dict[str, str] = {}
        if target["kind"] == "page":
            client.cookies[settings.SESSION_COOKIE_NAME] = cookies[target["role"]]
        else:
            headers["Authorization"] = f"Bearer {tokens[target['role']]}"
        with CaptureQueriesContext(connection) as queries:
            response = client.get(target["path"], headers=headers)
        if response.status_code == 200:
            target["queries"] = len(queries)
            readable.append(target)
    return readable


def _writes(
    clinic: Any, staff: dict[str, Any], count: int, tokens: dict[str, str]
) -> list[dict[str, Any]]:
    from django.utils import timezone

    from ketacare.accounts.access import Actor
    from ketacare.accounts.roles import Role
    from ketacare.followup.portal import portal_link_issue
    from ketacare.kernel import clock
    from ketacare.outcomes.models import (
        AssignmentTrigger,
        PortalLinkPurpose,
        QuestionnaireAssignment,
    )
    from ketacare.patients.models import Patient
    from ketacare.scheduling.models import Appointment, Course
    from ketacare.treatment import services
    from ketacare.treatment.models import TreatmentSession

    nurse = Actor(user=staff["nurse"], clinic=clinic, role=Role.NURSE, client_address="127.0.0.1")
    prescriber = Actor(
        user=staff["prescriber"], clinic=clinic, role=Role.PRESCRIBER, client_address="127.0.0.1"
    )
    now = timezone.now()
    # Patients with no open session (an earlier run leaves its sessions open).
    open_sessions = TreatmentSession.objects.filter(clinic=clinic).exclude(
        status__in=["discharged", "cancelled"]
    )
    courses = list(
        Course.objects.filter(clinic=clinic, status="completed", protocol_id="iv_induction_6x")
        .exclude(patient_id__in=open_sessions.values("patient_id"))
        .order_by("-id")[: count + 1]
    )

    def key() -> str:
        return uuid.uuid4().hex

    def checked(course: Any, minutes_ago: int) -> Any:
        start = now - timedelta(minutes=minutes_ago)
        course = Course.objects.create(
            clinic=clinic,
            patient_id=course.patient_id,
            protocol_id=course.protocol_id,
            protocol_version=course.protocol_version,
            route=course.route,
            screening_id=course.screening_id,
            consent_id=course.consent_id,
            planned_sessions=6,
            started_on=now.date(),
            created_by=prescriber.user,
        )
        appointment = Appointment.objects.create(
            clinic=clinic,
            patient_id=course.patient_id,
            course=course,
            starts_at=start,
            ends_at=start + timedelta(minutes=90),
            created_by=nurse.user,
        )
        with clock.frozen_at(start):
            session = services.session_check_in(
                actor=nurse, idempotency_key=key(), appointment_id=appointment.pk
            )
        with clock.frozen_at(start + timedelta(minutes=2)):
            services.predose_check_record(
                actor=nurse,
                session_id=session.pk,
                version=session.version,
                idempotency_key=key(),
                weight_kg=Decimal("72.0"),
                height_cm=Decimal("170.0"),
                systolic=124,
                diastolic=80,
                heart_rate=72,
                spo2=98,
                respiratory_rate=14,
                fasting_confirmed=True,
                escort_confirmed=True,
                pregnancy_test="negative",
                medication_changes=False,
                phq9_answers=[2, 2, 1, 2, 1, 1, 1, 0, 0],
                cssrs_answers=[False] * 6,
            )
        session.refresh_from_db()
        return session

    writes: list[dict[str, Any]] = []
    live = checked(courses[0], 20)
    with clock.frozen_at(now - timedelta(minutes=17)):
        services.dose_order_create(
            actor=_signing(prescriber),
            session_id=live.pk,
            version=live.version,
            idempotency_key=key(),
            inputs={
                "mg_per_kg": Decimal("0.5"),
                "concentration_mg_per_ml": Decimal("1"),
                "container_volume_ml": Decimal("100"),
            },
        )
    live.refresh_from_db()
    with clock.frozen_at(now - timedelta(minutes=15)):
        order = services.dose_order_verify(
            actor=_signing(nurse), session_id=live.pk, version=live.version, idempotency_key=key()
        )
    live.refresh_from_db()
    lot = _draw(clinic, staff, nurse, live.pk, order, now - timedelta(minutes=14, seconds=30))
    with clock.frozen_at(now - timedelta(minutes=14)):
        services.administration_start(
            actor=nurse,
            session_id=live.pk,
            version=live.version,
            idempotency_key=key(),
            product="Ketamine HCl, 1 mg/mL in saline",
            lot=lot,
            concentration_mg_per_ml=order.concentration_mg_per_ml,
            volume_ml=order.volume_ml,
            rate_ml_per_h=order.rate_ml_per_h,
        )
    clock.reset()
    for n in range(count):
        writes.append(
            {
                "name": "POST vital-sign reading",
                "kind": "api",
                "method": "POST",
                "role": "nurse",
                "path": f"/api/v1/sessions/{live.pk}/monitoring",
                "body": {
                    "systolic": 120 + n % 10,
                    "diastolic": 80,
                    "heart_rate": 72,
                    "spo2": 98,
                    "moaas": 4,
                    "dissociation": "mild",
                },
            }
        )
    for course in courses[1 : count + 1]:
        session = checked(course, 5)
        writes.append(
            {
                "name": "POST dose order",
                "kind": "api",
                "method": "POST",
                "role": "prescriber",
                "path": f"/api/v1/sessions/{session.pk}/dose-order",
                "headers": {"X-KetaCare-Reauth": SIGNING_PASSWORD},
                "body": {
                    "version": session.version,
                    "mg_per_kg": "0.5",
                    "concentration_mg_per_ml": "1",
                    "container_volume_ml": "100",
                },
            }
        )
    draft = {f"phq9_q{n}": v for n, v in enumerate([1, 2, 1, 1, 0, 1, 2, 1, 0], start=1)}
    for patient in Patient.objects.filter(clinic=clinic).order_by("-id")[:count]:
        assignment = QuestionnaireAssignment.objects.create(
            clinic=clinic,
            patient=patient,
            instrument_id="phq9",
            trigger=AssignmentTrigger.MANUAL,
            slot=f"bench:{key()}",
            opens_at=now - timedelta(minutes=10),
            due_by=now + timedelta(days=3),
            draft_answers=draft,
        )
        issued = portal_link_issue(
            actor=None,
            patient=patient,
            purpose=PortalLinkPurpose.QUESTIONNAIRES,
            assignments=[assignment],
            channel="email",
            expires_at=now + timedelta(days=3),
            now=now,
        )
        writes.append(
            {
                "name": "POST portal submission",
                "kind": "portal",
                "method": "POST",
                "role": "",
                "path": f"/portal/{issued.token}/q/{assignment.pk}/review/",
                "body": None,
            }
        )
    return writes


def main() -> None:
    import django

    django.setup()
    from ketacare.accounts.models import Clinic

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    clinic = Clinic.objects.get(slug=CLINIC)
    patient = _patient(clinic)
    values = _values(clinic, patient)
    staff = _staff(clinic)
    cookies = {role: _web_session(user, clinic) for role, user in staff.items()}
    tokens = {role: _api_token(user, clinic) for role, user in staff.items()}
    reads = _reads(clinic, values, staff, cookies, tokens)
    writes = _writes(clinic, staff, count, tokens) if count else []
    from django.conf import settings

    print(json.dumps({
        "patient_id": patient.pk, "values": values, "cookie_name": settings.SESSION_COOKIE_NAME,
        "cookies": cookies, "tokens": tokens, "floor": f"/bench/floor/{patient.pk}/",
        "reads": reads, "writes": writes,
    }))  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.config.settings")
    main()
