"""Integration notes from templates (DAP), without a treatment session, and entered in error."""

import pytest

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Conflict, Refused
from ketacare.followup.services import integration_note_enter_in_error, integration_note_write
from ketacare.outcomes.models import IntegrationNote

pytestmark = pytest.mark.django_db


def _therapist(world):
    return Actor(user=world.staff["therapist"], clinic=world.clinic_a, role=Role.THERAPIST)


def test_a_dap_note_needs_no_treatment_session_and_keeps_its_sections(world):
    note = integration_note_write(
        actor=_therapist(world),
        patient=world.patient_a,
        session_id=None,
        body="",
        idempotency_key="dap-1",
        template="dap",
        sections={
            "data": "Described the session as calm",
            "assessment": "Insight into avoidance",
            "plan": "Journal each evening",
        },
    )
    assert note.session is None and note.template == "dap"
    assert note.body.startswith("Data: Described the session as calm")
    assert "Plan: Journal each evening" in note.body
    assert note.sections["assessment"] == "Insight into avoidance"


def test_a_dap_note_needs_every_section(world):
    with pytest.raises(Refused) as refused:
        integration_note_write(
            actor=_therapist(world),
            patient=world.patient_a,
            session_id=None,
            body="",
            idempotency_key="dap-2",
            template="dap",
            sections={"data": "x", "assessment": "y"},
        )
    assert refused.value.field == "plan"


def test_an_unknown_template_is_refused(world):
    with pytest.raises(Refused) as refused:
        integration_note_write(
            actor=_therapist(world),
            patient=world.patient_a,
            session_id=None,
            body="text",
            idempotency_key="t-1",
            template="soapish",
        )
    assert refused.value.code == "choice"


def test_the_page_writes_a_dap_note_without_a_session(world):
    client = world.web(world.staff["therapist"])
    response = client.post(
        f"/outcomes/patients/{world.patient_a.pk}/integration-notes/new/",
        {
            "session_id": "",
            "template": "dap",
            "dap_data": "Arrived early",
            "dap_assessment": "Settled",
            "dap_plan": "Next week",
            "idempotency_key": "page-dap",
        },
    )
    assert response.status_code == 302
    assert IntegrationNote.objects.get().template == "dap"


def test_the_api_writes_a_free_note_without_a_session(world):
    response = world.api(world.staff["therapist"]).post(
        f"/api/v1/patients/{world.patient_a.pk}/integration-notes",
        {"body": "Phone integration call", "idempotency_key": "api-free"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["session_id"] is None


def test_a_note_entered_in_error_stays_visible_with_its_reason(world):
    note = integration_note_write(
        actor=_therapist(world),
        patient=world.patient_a,
        session_id=None,
        body="Wrote on the wrong chart",
        idempotency_key="n-1",
    )
    integration_note_enter_in_error(
        actor=_therapist(world), patient=world.patient_a, note_id=note.pk, reason="Wrong patient"
    )
    with pytest.raises(Conflict):
        integration_note_enter_in_error(
            actor=_therapist(world), patient=world.patient_a, note_id=note.pk, reason="Again!!"
        )
    page = world.web(world.staff["prescriber"]).get(
        f"/outcomes/patients/{world.patient_a.pk}/integration-notes/"
    )
    html = page.content.decode()
    assert "Wrote on the wrong chart" in html and "Entered in error" in html
    assert "Wrong patient" in html
