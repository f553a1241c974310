"""Intake forms on the portal: the patient fills them in before the first visit; staff review
them beside the chart and accept the parts that are right. Nothing reaches the chart unreviewed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.errors import Conflict, Refused
from ketacare.outcomes.models import PortalLink
from ketacare.patients import intake_forms
from ketacare.patients.duplicates import patient_merge
from ketacare.patients.models import ChartSection, IntakeSubmission, IntakeSubmissionStatus
from tests.factories import PatientFactory
from tests.outcomes.factories import link_for

pytestmark = pytest.mark.django_db


def _path(token, *parts):
    return "/portal/" + "/".join([token, *[str(p) for p in parts]]) + "/"


def _actor(world, role="nurse"):
    return Actor(user=world.staff[role], clinic=world.clinic_a, role=Role(role))


def _intake_link(patient):
    return link_for(patient, purpose="intake", expires_at=timezone.now() + timedelta(days=14))


FILLED = {
    "idempotency_key": "intake-form-1",
    "phone": "(555) 010-2233",
    "email": "rosa@example.org",
    "address": "12 Elm Street",
    "emergency_contact_name": "Maya Castillo",
    "emergency_contact_relationship": "Sister",
    "emergency_contact_phone": "555 010 9988",
    "conditions": ["aortic_aneurysm"],
    "history_other": "Migraine",
    "med_name_0": "Zoloft",
    "med_dose_0": "50 mg",
    "med_frequency_0": "Every morning",
    "med_name_1": "Grandma's sleep tea pills",
    "allergies_none": "1",
}


def _send(world, data=None):
    issued = _intake_link(world.patient_a)
    client = Client()
    response = client.post(_path(issued.token, "intake"), data or FILLED)
    return issued, client, response


def test_the_patient_fills_in_the_forms_and_nothing_reaches_the_chart(world):
    # given an intake link; the home page leads to the forms
    issued = _intake_link(world.patient_a)
    client = Client()
    home = client.get(_path(issued.token))
    assert home.status_code == 302 and home["Location"] == _path(issued.token, "intake")
    page = client.get(_path(issued.token, "intake")).content.decode()
    assert "Medicines you take now" in page and "Emergency contact" in page
    # when the patient sends them
    response = client.post(_path(issued.token, "intake"), FILLED)
    # then they are kept for review, audited as the portal's, the link is used up
    assert response.status_code == 200 and b"Your forms were sent" in response.content
    submission = IntakeSubmission.objects.get()
    assert submission.status == IntakeSubmissionStatus.SUBMITTED
    assert submission.data["medicines"]["items"][0]["generic_name"] == "zoloft"
    assert submission.data["phone_email"] == {
        "phone": "(555) 010-2233",
        "email": "rosa@example.org",
    }
    assert not ChartSection.objects.filter(patient=world.patient_a).exists()
    assert AuditEntry.objects.filter(
        object_type="intake_submission",
        actor_username="patient-portal",
        patient_id=world.patient_a.pk,
    ).exists()
    assert PortalLink.objects.get(pk=issued.link.pk).used_at is not None
    assert client.get(_path(issued.token, "intake")).status_code == 410


def test_an_incomplete_part_is_refused_on_the_page_with_what_was_typed(world):
    data = {**FILLED, "emergency_contact_phone": ""}
    issued, _, response = _send(world, data)
    assert response.status_code == 422
    page = response.content.decode()
    assert 'role="alert"' in page and "Maya Castillo" in page
    assert not IntakeSubmission.objects.exists()
    assert PortalLink.objects.get(pk=issued.link.pk).used_at is None


def test_an_empty_form_is_refused(world):
    issued = _intake_link(world.patient_a)
    with pytest.raises(Refused) as refused:
        intake_forms.intake_submission_submit(
            patient=world.patient_a,
            sections={},
            phone="",
            email="",
            idempotency_key="empty",
            client_address=None,
            now=timezone.now(),
        )
    assert refused.value.code == "empty_form"
    assert Client().post(_path(issued.token, "intake"), {"idempotency_key": "x"}).status_code == 422


def test_a_double_tap_sends_once(world):
    issued = _intake_link(world.patient_a)
    sections = {"allergies": {"none_known": True}}
    first = intake_forms.intake_submission_submit(
        patient=world.patient_a,
        sections=sections,
        phone="",
        email="",
        idempotency_key="same-key",
        client_address=None,
        now=timezone.now(),
    )
    again = intake_forms.intake_submission_submit(
        patient=world.patient_a,
        sections=sections,
        phone="",
        email="",
        idempotency_key="same-key",
        client_address=None,
        now=timezone.now(),
    )
    assert first.pk == again.pk and IntakeSubmission.objects.count() == 1
    assert issued.link.used_at is None


def test_staff_see_unknown_medicines_flagged_and_accept_the_checked_parts(world):
    # given a form sent from the portal
    _send(world)
    submission = IntakeSubmission.objects.get()
    nurse = world.web(world.staff["nurse"])
    chart = nurse.get(f"/patients/{world.patient_a.pk}/").content.decode()
    assert 'data-testid="intake-forms-waiting"' in chart
    url = f"/patients/{world.patient_a.pk}/intake-forms/{submission.pk}/"
    page = nurse.get(url).content.decode()
    # then the medicine the vocabulary reads is named, the one it does not is flagged
    assert "sertraline" in page
    assert "Needs review" in page and "grandma&#x27;s sleep tea pills" in page.lower()
    # when the nurse accepts medicines and contact, not the history
    response = nurse.post(
        url, {"decision": "accept", "parts": ["medicines", "contact"], "version": "1"}
    )
    assert response.status_code == 302
    # then exactly those are in the chart, as the nurse's change; the form is closed
    sections = set(
        ChartSection.objects.filter(patient=world.patient_a).values_list("section", flat=True)
    )
    assert sections == {"medicines", "contact"}
    row = ChartSection.objects.get(patient=world.patient_a, section="medicines")
    assert row.updated_by == world.staff["nurse"]
    submission.refresh_from_db()
    assert submission.status == IntakeSubmissionStatus.ACCEPTED
    assert submission.accepted_sections == ["contact", "medicines"]
    assert submission.reviewed_by == world.staff["nurse"]
    chart = nurse.get(f"/patients/{world.patient_a.pk}/").content.decode()
    assert 'data-testid="intake-forms-waiting"' not in chart


def test_phone_and_email_are_accepted_as_demographics(world):
    _send(world)
    submission = IntakeSubmission.objects.get()
    intake_forms.intake_submission_accept(
        actor=_actor(world),
        patient_id=world.patient_a.pk,
        submission_id=submission.pk,
        version=submission.version,
        parts=["phone_email"],
    )
    world.patient_a.refresh_from_db()
    assert (world.patient_a.phone, world.patient_a.email) == ("(555) 010-2233", "rosa@example.org")


def test_accepting_nothing_is_refused_and_a_reviewed_form_cannot_be_reviewed_again(world):
    _send(world)
    submission = IntakeSubmission.objects.get()
    nurse = _actor(world)
    ids = {
        "actor": nurse,
        "patient_id": world.patient_a.pk,
        "submission_id": submission.pk,
        "version": submission.version,
    }
    with pytest.raises(Refused) as nothing:
        intake_forms.intake_submission_accept(**ids, parts=[])
    assert nothing.value.code == "intake_nothing_chosen"
    with pytest.raises(Refused) as unknown:
        intake_forms.intake_submission_accept(**ids, parts=["diagnoses"])
    assert unknown.value.code == "choice"
    declined = intake_forms.intake_submission_decline(**ids, reason="Filled in by the wrong person")
    # naming the version it now holds, the form is still not reviewed twice
    ids["version"] = declined.version
    with pytest.raises(Conflict) as again:
        intake_forms.intake_submission_accept(**ids, parts=["medicines"])
    assert again.value.code == "intake_already_reviewed"
    assert not ChartSection.objects.filter(patient=world.patient_a).exists()


def test_a_decline_needs_a_reason(world):
    _send(world)
    submission = IntakeSubmission.objects.get()
    with pytest.raises(Refused) as refused:
        intake_forms.intake_submission_decline(
            actor=_actor(world),
            patient_id=world.patient_a.pk,
            submission_id=submission.pk,
            version=submission.version,
            reason="no",
        )
    assert refused.value.code == "reason_required"


def test_front_desk_cannot_review_and_another_clinic_does_not_find_the_form(world):
    _send(world)
    submission = IntakeSubmission.objects.get()
    url = f"/patients/{world.patient_a.pk}/intake-forms/{submission.pk}/"
    assert world.web(world.staff["front_desk"]).get(url).status_code == 403
    assert world.web(world.outsiders["nurse"]).get(url).status_code == 404


def test_staff_issue_the_intake_link_by_email_or_qr(world):
    world.patient_a.email = "rosa@example.org"
    world.patient_a.save(update_fields=["email"])
    desk = world.web(world.staff["front_desk"])
    url = f"/outcomes/patients/{world.patient_a.pk}/intake-link/"
    assert desk.post(url, {"how": "email"}).status_code == 302
    assert "forms to fill in before your first visit" in mail.outbox[-1].subject
    qr = desk.post(url, {"how": "qr"})
    assert qr.status_code == 200 and b"Intake forms." in qr.content
    assert PortalLink.objects.filter(patient=world.patient_a, purpose="intake").count() == 2


def test_a_form_for_a_merged_chart_is_refused(world):
    keep = PatientFactory(clinic=world.clinic_a)
    issued = _intake_link(world.patient_a)
    patient_merge(
        actor=_actor(world, "admin"), keep_id=keep.pk, merge_id=world.patient_a.pk, reason="Same"
    )
    # the link moved with the records, so it now opens the kept chart's forms
    Client().post(_path(issued.token, "intake"), FILLED)
    assert IntakeSubmission.objects.get().patient_id == keep.pk


def test_two_staff_reviewing_one_form_at_once_cannot_both_succeed_stale_version(world):
    # given two nurses who opened the same form (version 1)
    _send(world)
    submission = IntakeSubmission.objects.get()
    first = _actor(world)
    second = Actor(user=world.staff["prescriber"], clinic=world.clinic_a, role=Role.PRESCRIBER)
    ids = {"patient_id": world.patient_a.pk, "submission_id": submission.pk, "version": 1}
    # when the first accepts the medicines
    intake_forms.intake_submission_accept(actor=first, **ids, parts=["medicines"])
    # then the second's accept and decline, decided on version 1, are refused
    with pytest.raises(Conflict) as accept:
        intake_forms.intake_submission_accept(actor=second, **ids, parts=["contact"])
    assert accept.value.code == "stale_version"
    assert accept.value.field == "version"
    with pytest.raises(Conflict) as decline:
        intake_forms.intake_submission_decline(actor=second, **ids, reason="Wrong patient form")
    assert decline.value.code == "stale_version"
    submission.refresh_from_db()
    assert (submission.status, submission.reviewed_by) == ("accepted", world.staff["nurse"])
    assert submission.accepted_sections == ["medicines"]
    assert set(
        ChartSection.objects.filter(patient=world.patient_a).values_list("section", flat=True)
    ) == {"medicines"}


def test_the_review_page_sends_its_version_and_a_post_without_one_is_refused(world):
    _send(world)
    submission = IntakeSubmission.objects.get()
    nurse = world.web(world.staff["nurse"])
    url = f"/patients/{world.patient_a.pk}/intake-forms/{submission.pk}/"
    page = nurse.get(url).content.decode()
    assert page.count('name="version" value="1"') == 2  # the accept and the decline forms
    # a post that names no version decides on nothing: refused, nothing written
    response = nurse.post(url, {"decision": "accept", "parts": ["medicines"]})
    assert response.status_code == 409
    assert not ChartSection.objects.filter(patient=world.patient_a).exists()
    # a stale page's post is refused the same way once another accepted
    assert (
        nurse.post(url, {"decision": "accept", "parts": ["medicines"], "version": "1"}).status_code
        == 302
    )
    stale = nurse.post(url, {"decision": "decline", "reason": "Wrong patient", "version": "1"})
    assert stale.status_code == 409


def test_the_review_shows_condition_labels_not_codes(world):
    _send(world)
    submission = IntakeSubmission.objects.get()
    nurse = world.web(world.staff["nurse"])
    page = nurse.get(f"/patients/{world.patient_a.pk}/intake-forms/{submission.pk}/")
    text = page.content.decode()
    assert "Aortic aneurysm" in text
    assert "aortic_aneurysm" not in text
    assert 'data-testid="code-needs-review"' not in text


def test_an_unknown_condition_code_is_shown_as_recorded_and_flagged_needs_review(world):
    # given a form whose condition code the vocabulary no longer holds
    _send(world)
    submission = IntakeSubmission.objects.get()
    data = dict(submission.data)
    data["medical_history"] = {**data["medical_history"], "conditions": ["retired_code_x"]}
    IntakeSubmission.objects.filter(pk=submission.pk).update(data=data)
    # when staff open it
    nurse = world.web(world.staff["nurse"])
    page = nurse.get(f"/patients/{world.patient_a.pk}/intake-forms/{submission.pk}/")
    text = page.content.decode()
    # then the code is shown as recorded, flagged, and listed under "Needs review"
    assert "retired_code_x (needs review)" in text
    assert 'data-testid="code-needs-review"' in text
    review = intake_forms.intake_submission_review(
        actor=_actor(world), patient_id=world.patient_a.pk, submission_id=submission.pk
    )
    assert [r.entry for r in review.needs_review if r.entry == "retired_code_x"] == [
        "retired_code_x"
    ]
