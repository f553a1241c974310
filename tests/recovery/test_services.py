"""Recovery services: safety review, drug screens, decisions, plans, programmes, Part 2."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketacare.clinical import recovery as rules
from ketacare.outcomes.models import SafetyAlert
from ketacare.recovery import services
from ketacare.recovery.models import (
    AppendOnly,
    MisuseDecision,
    MisuseReview,
    Part2Disclosure,
    RecoveryPlanVersion,
)
from ketacare.recovery.services.common import today_of
from tests.recovery.helpers import craving, key, refused

pytestmark = pytest.mark.django_db


def _screen(actor, patient, **overrides):
    values = {
        "collected_on": today_of(actor),
        "substance": "cocaine",
        "result": "positive",
        "confirmed": True,
        "prescribed": False,
    }
    values.update(overrides)
    return services.drug_screen_record(actor=actor, patient_id=patient.pk, **values)


def test_a_confirmed_positive_screen_puts_the_patient_on_review_with_its_evidence(world, actors):
    # when a nurse records a confirmed cocaine positive
    screen = _screen(actors["nurse"], world.patient_a)
    # then the stored review names the signal and the screen
    review = MisuseReview.objects.get(patient=world.patient_a)
    assert review.signal_ids == ["positive_drug_screen"]
    assert review.signals[0]["evidence"][0]["ref"] == f"drug_screen:{screen.pk}"
    assert review.not_checked == []


def test_a_prescribed_positive_screen_gives_no_signal(world, actors):
    _screen(actors["nurse"], world.patient_a, substance="ketamine", prescribed=True)
    assert MisuseReview.objects.get(patient=world.patient_a).signal_ids == []


def test_a_severe_combination_opens_one_safety_alert(world, actors):
    # given rising craving and a confirmed positive screen (two signals)
    craving(world.patient_a, 1, 20)
    craving(world.patient_a, 6, 1)
    _screen(actors["nurse"], world.patient_a)
    # when a third signal arrives: two requests for earlier sessions
    for _ in range(2):
        services.session_request_record(
            actor=actors["nurse"],
            patient_id=world.patient_a.pk,
            kind="session_request_earlier",
            requested_on=today_of(actors["nurse"]),
        )
    # then one alert, with the signals as evidence
    alerts = SafetyAlert.objects.filter(patient=world.patient_a, code="misuse_severe")
    assert alerts.count() == 1
    assert alerts[0].response_id is None
    assert alerts[0].severity == "same_day"
    assert "session_requests" in {s["id"] for s in alerts[0].evidence["signals"]}


def test_the_prescriber_records_a_decision_with_a_reason(world, actors):
    _screen(actors["nurse"], world.patient_a)
    submission = key()
    decision = services.misuse_decision_record(
        actor=actors["prescriber"],
        patient_id=world.patient_a.pk,
        decision="pause",
        reason="Positive screen; talk first.",
        idempotency_key=submission,
    )
    again = services.misuse_decision_record(
        actor=actors["prescriber"],
        patient_id=world.patient_a.pk,
        decision="pause",
        reason="Positive screen; talk first.",
        idempotency_key=submission,
    )
    assert again.pk == decision.pk
    assert decision.review.signal_ids == ["positive_drug_screen"]
    with pytest.raises(AppendOnly):
        MisuseDecision.objects.filter(pk=decision.pk).update(reason="changed")
    with pytest.raises(AppendOnly):
        decision.delete()


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("invalid", {"decision": "escalate"}),
        ("required", {"reason": "  "}),
        ("too_long", {"reason": "x" * 2001}),
        ("not_found", {"patient_id": 0}),
    ],
)
def test_decision_refusals(world, actors, code, change):
    _screen(actors["nurse"], world.patient_a)
    values = {
        "patient_id": world.patient_a.pk,
        "decision": "continue",
        "reason": "ok",
        "idempotency_key": key(),
        **change,
    }
    assert refused(
        code, lambda: services.misuse_decision_record(actor=actors["prescriber"], **values)
    )


def test_no_decision_without_a_signal(world, actors):
    assert refused(
        "no_signal",
        lambda: services.misuse_decision_record(
            actor=actors["prescriber"],
            patient_id=world.patient_a.pk,
            decision="continue",
            reason="nothing",
            idempotency_key=key(),
        ),
    )


def test_another_clinics_patient_is_not_found(world, actors):
    assert refused("not_found", lambda: _screen(actors["nurse"], world.patient_b))


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("invalid", {"substance": "glue"}),
        ("invalid", {"result": "maybe"}),
        ("required", {"substance": "other", "note": ""}),
        ("in_the_future", {"days": 1}),
    ],
)
def test_drug_screen_refusals(world, actors, code, change):
    actor = actors["nurse"]
    days = change.pop("days", 0)
    assert refused(
        code,
        lambda: _screen(
            actor, world.patient_a, collected_on=today_of(actor) + timedelta(days=days), **change
        ),
    )


def test_session_request_kind_is_checked(world, actors):
    assert refused(
        "invalid",
        lambda: services.session_request_record(
            actor=actors["nurse"],
            patient_id=world.patient_a.pk,
            kind="more_please",
            requested_on=today_of(actors["nurse"]),
        ),
    )


# --- relapse-prevention plan -------------------------------------------------------------------


def test_plan_versions_are_appended_and_reviewed(world, actors):
    therapist = actors["therapist"]
    first = services.plan_version_write(
        actor=therapist, patient_id=world.patient_a.pk, fields={"triggers": "Payday"}, based_on=0
    )
    second = services.plan_version_write(
        actor=therapist,
        patient_id=world.patient_a.pk,
        fields={"triggers": "Payday; parties"},
        based_on=1,
    )
    assert (first.number, second.number) == (1, 2)
    assert RecoveryPlanVersion.objects.get(pk=first.pk).triggers == "Payday"
    review = services.plan_review_record(
        actor=therapist,
        patient_id=world.patient_a.pk,
        version_number=2,
        note="Went through it together.",
    )
    assert review.version_id == second.pk


def test_plan_refusals(world, actors):
    therapist = actors["therapist"]
    pid = world.patient_a.pk
    assert refused(
        "no_plan",
        lambda: services.plan_review_record(
            actor=therapist, patient_id=pid, version_number=1, note="x"
        ),
    )
    assert refused(
        "required",
        lambda: services.plan_version_write(actor=therapist, patient_id=pid, fields={}, based_on=0),
    )
    services.plan_version_write(
        actor=therapist, patient_id=pid, fields={"coping": "Walk"}, based_on=0
    )
    assert refused(
        "stale_version",
        lambda: services.plan_version_write(
            actor=therapist, patient_id=pid, fields={"coping": "Run"}, based_on=0
        ),
    )
    assert refused(
        "nothing_changed",
        lambda: services.plan_version_write(
            actor=therapist, patient_id=pid, fields={"coping": "Walk"}, based_on=1
        ),
    )
    assert refused(
        "stale_version",
        lambda: services.plan_review_record(
            actor=therapist, patient_id=pid, version_number=7, note="x"
        ),
    )


def test_a_questionnaire_link_does_not_open_the_plan(world):
    from ketacare.kernel import clock
    from ketacare.outcomes.models import PortalLink, PortalLinkPurpose
    from ketacare.recovery.services.plan import plan_version_write_by_patient

    link = PortalLink.objects.create(
        clinic=world.clinic_a,
        patient=world.patient_a,
        token_hash="x" * 64,
        purpose=PortalLinkPurpose.QUESTIONNAIRES,
        channel="qr",
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=1),
    )
    assert refused(
        "wrong_link",
        lambda: plan_version_write_by_patient(
            link=link, fields={"coping": "x"}, based_on=0, client_address=None
        ),
    )


# --- substance-use programme ------------------------------------------------------------------


def test_programme_calendar_and_withdrawal_alert(world, actors):
    nurse, pid = actors["nurse"], world.patient_a.pk
    today = today_of(nurse)
    assert refused(
        "no_programme",
        lambda: services.use_day_mark(actor=nurse, patient_id=pid, day=today, used=False),
    )
    services.programme_start(
        actor=nurse, patient_id=pid, substance="ketamine", started_on=today - timedelta(days=3)
    )
    assert refused(
        "programme_exists",
        lambda: services.programme_start(
            actor=nurse, patient_id=pid, substance="alcohol", started_on=today
        ),
    )
    assert refused(
        "before_programme",
        lambda: services.use_day_mark(
            actor=nurse, patient_id=pid, day=today - timedelta(days=9), used=False
        ),
    )
    assert refused(
        "required", lambda: services.use_day_mark(actor=nurse, patient_id=pid, day=today, used=True)
    )
    assert refused(
        "invalid",
        lambda: services.use_day_mark(
            actor=nurse, patient_id=pid, day=today, used=False, amount="2g"
        ),
    )
    services.use_day_mark(actor=nurse, patient_id=pid, day=today, used=True, amount="0.5 g")
    check = services.withdrawal_check_record(
        actor=nurse, patient_id=pid, answers=[True, True, True, True, False, False, False]
    )
    assert check.alert and check.safety_alert_id is not None
    calm = services.withdrawal_check_record(actor=nurse, patient_id=pid, answers=[False] * 7)
    assert not calm.alert
    assert refused(
        "invalid",
        lambda: services.withdrawal_check_record(actor=nurse, patient_id=pid, answers=[True]),
    )


# --- 42 CFR Part 2 -----------------------------------------------------------------------------


def test_part2_disclosure_needs_consent_and_is_accounted_with_its_notice(world, actors):
    prescriber, pid = actors["prescriber"], world.patient_a.pk
    services.programme_start(
        actor=prescriber, patient_id=pid, substance="alcohol", started_on=today_of(prescriber)
    )
    # given no consent: refused
    assert refused(
        "no_consent",
        lambda: services.part2_disclose(
            actor=prescriber, patient_id=pid, purpose="treatment", recipient="Dr Lee"
        ),
    )
    # when the patient signs a TPO consent
    consent = services.part2_consent_record(
        actor=prescriber,
        patient_id=pid,
        purposes=["treatment", "payment", "operations"],
        recipient="",
        signed_on=today_of(prescriber),
        expires_on=None,
    )
    disclosure = services.part2_disclose(
        actor=prescriber, patient_id=pid, purpose="treatment", recipient="Dr Lee"
    )
    # then it is disclosed with the notice and accounted
    assert disclosure.notice == rules.REDISCLOSURE_NOTICE_FULL
    assert disclosure.consent_id == consent.pk
    assert "programmes" in disclosure.records
    assert Part2Disclosure.objects.filter(patient_id=pid).count() == 1
    # and research still needs its own consent
    assert refused(
        "no_consent",
        lambda: services.part2_disclose(
            actor=prescriber, patient_id=pid, purpose="research", recipient="Uni"
        ),
    )
    # and a revoked consent no longer covers anything
    services.part2_consent_revoke(actor=prescriber, patient_id=pid, consent_id=consent.pk)
    assert refused(
        "revoked",
        lambda: services.part2_consent_revoke(
            actor=prescriber, patient_id=pid, consent_id=consent.pk
        ),
    )
    assert refused(
        "no_consent",
        lambda: services.part2_disclose(
            actor=prescriber, patient_id=pid, purpose="treatment", recipient="Dr Lee"
        ),
    )


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("required", {"purposes": []}),
        ("invalid", {"purposes": ["gossip"]}),
        ("mixed_purposes", {"purposes": ["treatment", "research"], "recipient": "Uni"}),
        ("required", {"purposes": ["research"], "recipient": ""}),
        ("invalid", {"expires_in": -1}),
    ],
)
def test_part2_consent_refusals(world, actors, code, change):
    actor = actors["therapist"]
    expires = change.pop("expires_in", None)
    values = {
        "purposes": ["treatment"],
        "recipient": "",
        "signed_on": today_of(actor),
        "expires_on": today_of(actor) + timedelta(days=expires) if expires else None,
        **change,
    }
    assert refused(
        code,
        lambda: services.part2_consent_record(actor=actor, patient_id=world.patient_a.pk, **values),
    )


def test_part2_disclose_and_revoke_refusals(world, actors):
    prescriber, pid = actors["prescriber"], world.patient_a.pk
    assert refused(
        "invalid",
        lambda: services.part2_disclose(
            actor=prescriber, patient_id=pid, purpose="curiosity", recipient="x"
        ),
    )
    assert refused(
        "invalid",
        lambda: services.part2_disclose(
            actor=prescriber, patient_id=pid, purpose="treatment", recipient="x", channel="fax"
        ),
    )
    assert refused(
        "not_found",
        lambda: services.part2_consent_revoke(actor=prescriber, patient_id=pid, consent_id=0),
    )


def test_roles_without_part2_access_are_refused(world, actors):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.programme_start(
            actor=actors["admin"],
            patient_id=world.patient_a.pk,
            substance="alcohol",
            started_on=today_of(actors["admin"]),
        )
    with pytest.raises(PermissionDenied):
        services.part2_disclose(
            actor=actors["therapist"],
            patient_id=world.patient_a.pk,
            purpose="treatment",
            recipient="x",
        )
