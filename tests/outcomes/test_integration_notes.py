"""Integration notes: a therapist writes them on a treatment session; only the roles the
permission table allows may read them."""

import json

import pytest

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission, role_may
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.errors import Conflict
from ketacare.followup.services import integration_note_write
from ketacare.outcomes.models import IntegrationNote
from tests.factories import PatientFactory
from tests.treatment.factories import session_row

pytestmark = pytest.mark.django_db


def _write(client, patient, session, body="Talked through the dissociation.", key="k-1"):
    return client.post(
        f"/outcomes/patients/{patient.pk}/integration-notes/new/",
        {"session_id": session.pk, "body": body, "idempotency_key": key},
    )


def test_a_therapist_writes_a_note_on_a_session_and_the_prescriber_reads_it(world):
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    response = _write(world.web(world.staff["therapist"]), world.patient_a, session)
    assert response.status_code == 302
    note = IntegrationNote.objects.get()
    assert (note.session, note.written_by) == (session, world.staff["therapist"])
    page = world.web(world.staff["prescriber"]).get(
        f"/outcomes/patients/{world.patient_a.pk}/integration-notes/"
    )
    assert b"Talked through the dissociation." in page.content
    assert AuditEntry.objects.filter(object_type="integration_note", action="create").exists()
    assert AuditEntry.objects.filter(object_type="integration_note", action="list").exists()


@pytest.mark.parametrize("role", ["admin", "nurse", "front_desk"])
def test_roles_the_table_does_not_allow_cannot_read_notes(world, role):
    assert not role_may(role, Permission.INTEGRATION_NOTE_VIEW)
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    _write(world.web(world.staff["therapist"]), world.patient_a, session)
    client = world.web(world.staff[role])
    page = client.get(f"/outcomes/patients/{world.patient_a.pk}/integration-notes/")
    assert page.status_code == 403
    api = world.api(world.staff[role]).get(
        f"/api/v1/patients/{world.patient_a.pk}/integration-notes"
    )
    assert api.status_code == 403
    if role_may(role, Permission.QUESTIONNAIRE_VIEW):
        panel = client.get(f"/outcomes/patients/{world.patient_a.pk}/").content.decode()
        assert "Talked through the dissociation." not in panel


def test_a_prescriber_may_read_but_not_write_notes(world):
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    response = _write(world.web(world.staff["prescriber"]), world.patient_a, session)
    assert response.status_code == 403
    assert not IntegrationNote.objects.exists()


def test_a_double_submitted_note_is_saved_once(world):
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    client = world.web(world.staff["therapist"])
    _write(client, world.patient_a, session, key="same")
    _write(client, world.patient_a, session, key="same")
    assert IntegrationNote.objects.count() == 1


def test_a_note_cannot_be_tied_to_another_patients_session(world):
    other = PatientFactory(clinic=world.clinic_a)
    their_session = session_row(world.clinic_a, other, world.staff)
    response = _write(world.web(world.staff["therapist"]), world.patient_a, their_session, key="x")
    assert response.status_code == 302
    assert not IntegrationNote.objects.exists()


def test_notes_through_the_api(world):
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    url = f"/api/v1/patients/{world.patient_a.pk}/integration-notes"
    body = {"session_id": session.pk, "body": "Grounding practice helped.", "idempotency_key": "a1"}
    created = world.api(world.staff["therapist"]).post(
        url, json.dumps(body), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    listed = world.api(world.staff["prescriber"]).get(url).json()
    assert [n["body"] for n in listed] == ["Grounding practice helped."]
    outsider = world.api(world.outsiders["therapist"]).get(url)
    assert outsider.status_code == 404


def test_the_therapist_sees_recent_notes_on_the_chart_panel(world):
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    _write(world.web(world.staff["therapist"]), world.patient_a, session)
    panel = world.web(world.staff["therapist"]).get(f"/outcomes/patients/{world.patient_a.pk}/")
    assert b"Talked through the dissociation." in panel.content


def test_a_note_key_reused_for_another_patient_is_refused(world):
    # given a note written for one patient with key "n-1"
    session = session_row(world.clinic_a, world.patient_a, world.staff)
    _write(world.web(world.staff["therapist"]), world.patient_a, session, key="n-1")
    other = PatientFactory(clinic=world.clinic_a)
    # when the same key is sent for another patient's note
    with pytest.raises(Conflict) as error:
        integration_note_write(
            actor=Actor(user=world.staff["therapist"], clinic=world.clinic_a, role=Role.THERAPIST),
            patient=other,
            session_id=None,
            body="A different note.",
            idempotency_key="n-1",
        )
    # then it is refused, and the first patient's note is not handed back
    assert (error.value.field, error.value.code) == ("idempotency_key", "idempotency_key_reused")
    assert IntegrationNote.objects.count() == 1
