"""Recovery pages: the worklist with evidence, the decision, plans in the portal, Part 2 access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from ketacare.clinical import recovery as rules
from ketacare.followup.portal import portal_link_issue
from ketacare.kernel import clock
from ketacare.outcomes.models import PortalLinkPurpose
from ketacare.recovery import services
from ketacare.recovery.models import MisuseDecision, Part2Disclosure, RecoveryPlanVersion
from ketacare.recovery.services.common import today_of

pytestmark = pytest.mark.django_db


def _positive_screen(actor, patient):
    return services.drug_screen_record(
        actor=actor,
        patient_id=patient.pk,
        collected_on=today_of(actor),
        substance="cocaine",
        result="positive",
        confirmed=True,
        prescribed=False,
    )


def test_the_worklist_shows_the_patient_with_the_evidence_and_the_decision_clears_it(world, actors):
    # given a confirmed positive screen
    _positive_screen(actors["nurse"], world.patient_a)
    prescriber = world.web(world.staff["prescriber"])
    # when the prescriber opens the worklist
    page = prescriber.get(reverse("recovery_worklist")).content.decode()
    # then the patient is there with the evidence
    assert world.patient_a.display_name in page
    assert "Cocaine positive (confirmed)" in page
    # when they record "pause" with a reason
    detail = prescriber.get(reverse("recovery_patient", args=[world.patient_a.pk]))
    assert detail.status_code == 200
    response = prescriber.post(
        reverse("recovery_decide", args=[world.patient_a.pk]),
        {"decision": "pause", "reason": "Positive screen", "idempotency_key": "k" * 16},
    )
    assert response.status_code == 302
    assert MisuseDecision.objects.get().decision == "pause"
    # then the worklist no longer lists the patient
    assert (
        world.patient_a.display_name
        not in prescriber.get(reverse("recovery_worklist")).content.decode()
    )


def test_a_decision_without_a_reason_is_refused_on_the_form(world, actors):
    _positive_screen(actors["nurse"], world.patient_a)
    response = world.web(world.staff["prescriber"]).post(
        reverse("recovery_decide", args=[world.patient_a.pk]),
        {"decision": "pause", "reason": "", "idempotency_key": "k" * 16},
    )
    assert response.status_code == 422
    assert not MisuseDecision.objects.exists()


def test_a_nurse_may_not_decide(world, actors):
    _positive_screen(actors["nurse"], world.patient_a)
    response = world.web(world.staff["nurse"]).post(
        reverse("recovery_decide", args=[world.patient_a.pk]),
        {"decision": "pause", "reason": "x", "idempotency_key": "k" * 16},
    )
    assert response.status_code == 403


def test_the_patient_writes_the_plan_in_the_portal_and_the_therapist_sees_it(world):
    # given the patient's journal link
    issued = portal_link_issue(
        actor=None,
        patient=world.patient_a,
        purpose=PortalLinkPurpose.JOURNAL,
        assignments=[],
        channel="qr",
        expires_at=clock.now() + timedelta(days=14),
        now=clock.now(),
    )
    url = reverse("portal_recovery_plan", args=[issued.token])
    # when the patient saves a plan
    from django.test import Client

    patient = Client()
    assert patient.get(url).status_code == 200
    response = patient.post(url, {"triggers": "Payday", "coping": "Call Sam", "based_on": 0})
    assert response.status_code == 302
    version = RecoveryPlanVersion.objects.get()
    assert version.written_by_patient
    # then the therapist sees it with a review due
    page = world.web(world.staff["therapist"]).get(
        reverse("recovery_plan", args=[world.patient_a.pk])
    )
    assert "Call Sam" in page.content.decode()
    assert 'data-testid="review-due"' in page.content.decode()
    pdf = world.web(world.staff["therapist"]).get(
        reverse("recovery_plan_print", args=[world.patient_a.pk])
    )
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_stale_portal_save_is_refused(world):
    issued = portal_link_issue(
        actor=None,
        patient=world.patient_a,
        purpose=PortalLinkPurpose.JOURNAL,
        assignments=[],
        channel="qr",
        expires_at=clock.now() + timedelta(days=14),
        now=clock.now(),
    )
    from django.test import Client

    url = reverse("portal_recovery_plan", args=[issued.token])
    assert Client().post(url, {"triggers": "a", "based_on": 0}).status_code == 302
    assert Client().post(url, {"triggers": "b", "based_on": 0}).status_code == 409


def test_part2_pages_are_refused_to_roles_without_access_and_carry_the_notice(world, actors):
    services.programme_start(
        actor=actors["prescriber"],
        patient_id=world.patient_a.pk,
        substance="alcohol",
        started_on=today_of(actors["prescriber"]),
    )
    url = reverse("recovery_programme", args=[world.patient_a.pk])
    for role in ("admin", "front_desk"):
        assert world.web(world.staff[role]).get(url).status_code == 403
    page = world.web(world.staff["therapist"]).get(url).content.decode()
    assert rules.REDISCLOSURE_NOTICE in page


def test_disclosure_is_refused_without_consent_and_carries_the_notice_after(world, actors):
    prescriber = world.web(world.staff["prescriber"])
    pid = world.patient_a.pk
    services.programme_start(
        actor=actors["prescriber"],
        patient_id=pid,
        substance="alcohol",
        started_on=today_of(actors["prescriber"]),
    )
    disclose = reverse("recovery_disclose", args=[pid])
    refused = prescriber.post(disclose, {"purpose": "treatment", "recipient": "Dr Lee"})
    assert refused.status_code == 422
    assert not Part2Disclosure.objects.exists()
    prescriber.post(
        reverse("recovery_consent", args=[pid]),
        {
            "purposes": ["treatment", "payment", "operations"],
            "signed_on": today_of(actors["prescriber"]),
        },
    )
    shown = prescriber.post(disclose, {"purpose": "treatment", "recipient": "Dr Lee"})
    assert shown.status_code == 200
    assert "NOT sufficient" in shown.content.decode()
    assert 'data-testid="consent-scope"' in shown.content.decode()
    assert "treatment, payment and health care operations" in shown.content.decode()
    accounting = prescriber.get(reverse("recovery_accounting", args=[pid])).content.decode()
    assert "Dr Lee" in accounting


def test_the_api_answers_part2_records_with_the_notice_and_refuses_the_admin(world, actors):
    services.programme_start(
        actor=actors["prescriber"],
        patient_id=world.patient_a.pk,
        substance="alcohol",
        started_on=today_of(actors["prescriber"]),
    )
    url = f"/api/v1/recovery/patients/{world.patient_a.pk}/part2"
    answer = world.api(world.staff["therapist"]).get(url)
    assert answer.status_code == 200
    assert answer.json()["redisclosure_notice"] == rules.REDISCLOSURE_NOTICE
    assert answer["X-Redisclosure-Notice"] == rules.REDISCLOSURE_NOTICE
    assert world.api(world.staff["admin"]).get(url).status_code == 403
    assert world.api(world.outsiders["therapist"]).get(url).status_code == 404


def test_the_chart_panel_loads_for_the_care_team(world, actors):
    _positive_screen(actors["nurse"], world.patient_a)
    panel = world.web(world.staff["nurse"]).get(
        reverse("recovery_panel", args=[world.patient_a.pk])
    )
    assert 'data-testid="panel-signals"' in panel.content.decode()
    chart = world.web(world.staff["nurse"]).get(
        reverse("patient_detail", args=[world.patient_a.pk])
    )
    assert reverse("recovery_panel", args=[world.patient_a.pk]) in chart.content.decode()


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm the session and per-process caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_worklist_makes_the_same_queries_for_one_or_many_patients(world, actors):
    from tests.factories import PatientFactory

    # given one patient on the worklist
    client = world.web(world.staff["prescriber"])
    url = reverse("recovery_worklist")
    _positive_screen(actors["nurse"], world.patient_a)
    one = _queries(client, url)
    # when four more join
    for _ in range(4):
        _positive_screen(actors["nurse"], PatientFactory(clinic=world.clinic_a))
    # then the page makes no query per row: session, actor, list, audit
    assert _queries(client, url) == one
