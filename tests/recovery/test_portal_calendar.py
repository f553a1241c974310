"""The patient marks their own use-calendar days in the portal: the same service as the
clinician's entry, audited as the portal, scoped to the link's patient."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.audit.models import AuditEntry
from ketacare.followup.portal import portal_link_issue
from ketacare.kernel import clock
from ketacare.outcomes.models import PortalLinkPurpose
from ketacare.recovery import services
from ketacare.recovery.models import UseDay
from ketacare.recovery.services.common import today_of
from tests.recovery.helpers import refused

pytestmark = pytest.mark.django_db


def _link(patient, purpose=PortalLinkPurpose.JOURNAL):
    return portal_link_issue(
        actor=None,
        patient=patient,
        purpose=purpose,
        assignments=[],
        channel="qr",
        expires_at=clock.now() + timedelta(days=14),
        now=clock.now(),
    )


def _programme(actors, patient, days_ago=10):
    nurse = actors["nurse"]
    return services.programme_start(
        actor=nurse,
        patient_id=patient.pk,
        substance="ketamine",
        started_on=today_of(nurse) - timedelta(days=days_ago),
    )


def test_the_patient_marks_a_day_on_a_phone_and_the_clinic_sees_it(world, actors):
    # given patient A in a programme and their journal link
    _programme(actors, world.patient_a)
    issued = _link(world.patient_a)
    url = reverse("portal_recovery_calendar", args=[issued.token])
    today = today_of(actors["nurse"])
    phone = Client()
    # when they open the calendar and mark yesterday used, 0.5 g
    page = phone.get(url)
    assert page.status_code == 200
    assert 'data-testid="use-calendar"' in page.content.decode()
    yesterday = (today - timedelta(days=1)).isoformat()
    response = phone.post(url, {"day": yesterday, "used": "1", "amount": "0.5 g"})
    # then the day is stored as the patient's own mark, audited as the portal
    assert response.status_code == 302
    row = UseDay.objects.get()
    assert (row.used, row.amount, row.by_patient, row.recorded_by) == (True, "0.5 g", True, None)
    write = AuditEntry.objects.get(object_type="use_day")
    assert write.actor_username == "patient-portal"
    assert write.detail["by_patient"] is True
    assert AuditEntry.objects.filter(object_type="use_calendar").exists()  # the read
    # and the calendar and the clinician's programme page show it
    assert "0.5 g" in phone.get(url).content.decode()
    staff = world.web(world.staff["nurse"]).get(
        reverse("recovery_programme", args=[world.patient_a.pk])
    )
    assert "0.5 g" in staff.content.decode()


def test_a_refused_mark_names_the_field(world, actors):
    _programme(actors, world.patient_a)
    url = reverse("portal_recovery_calendar", args=[_link(world.patient_a).token])
    tomorrow = (today_of(actors["nurse"]) + timedelta(days=1)).isoformat()
    response = Client().post(url, {"day": tomorrow, "used": "0", "amount": ""})
    assert response.status_code == 422
    assert "in the future" in response.content.decode()
    assert not UseDay.objects.exists()


def test_a_patient_without_a_programme_is_told_so(world, actors):
    # given a programme for patient A only; patient B opens their own link
    _programme(actors, world.patient_a)
    url = reverse("portal_recovery_calendar", args=[_link(world.patient_b).token])
    page = Client().get(url)
    assert page.status_code == 200
    assert "has not started a use calendar" in page.content.decode()
    # and a post marks nothing anywhere
    Client().post(url, {"day": today_of(actors["nurse"]).isoformat(), "used": "0"})
    assert not UseDay.objects.exists()


def test_an_intake_link_does_not_open_the_calendar(world, actors):
    _programme(actors, world.patient_a)
    issued = _link(world.patient_a, PortalLinkPurpose.INTAKE)
    response = Client().get(reverse("portal_recovery_calendar", args=[issued.token]))
    assert response.status_code == 302


def test_each_refusal_of_the_patients_mark(world, actors):
    programme = _programme(actors, world.patient_a, days_ago=3)
    today = today_of(actors["nurse"])
    link = _link(world.patient_a).link

    def mark(**change):
        values = {"day": today, "used": False, "amount": ""} | change
        return lambda: services.use_day_mark_by_patient(link=link, client_address=None, **values)

    refused("before_programme", mark(day=programme.started_on - timedelta(days=1)))
    refused("in_the_future", mark(day=today + timedelta(days=1)))
    refused("required", mark(used=True))
    refused("invalid", mark(amount="2 g"))
    intake = _link(world.patient_a, PortalLinkPurpose.INTAKE).link
    refused(
        "wrong_link",
        lambda: services.use_day_mark_by_patient(
            link=intake, day=today, used=False, client_address=None
        ),
    )
    other = _link(world.patient_b).link
    refused(
        "no_programme",
        lambda: services.use_day_mark_by_patient(
            link=other, day=today, used=False, client_address=None
        ),
    )
