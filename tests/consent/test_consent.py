"""Consent: versioned documents per route, witnessed signatures, re-consent, withdrawal."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.consent.models import ConsentDocumentVersion, ConsentSignature
from ketacare.consent.selectors import consent_status
from ketacare.consent.services import (
    consent_document_publish,
    consent_signature_record,
    consent_signature_withdraw,
)
from ketacare.consent.texts import default_body
from ketacare.errors import Conflict, Refused
from tests.consent.factories import ConsentSignatureFactory
from tests.factories import PatientFactory, member

pytestmark = pytest.mark.django_db


def _actor(world, role, clinic=None):
    users = world.outsiders if clinic is not None else world.staff
    return Actor(user=users[role], clinic=clinic or world.clinic_a, role=Role(role))


def _publish(world, body=None, based_on=0, route="iv"):
    return consent_document_publish(
        actor=_actor(world, "admin"),
        route=route,
        title="Consent to IV ketamine",
        body=body or default_body(route),
        based_on=based_on,
    )


def _sign(world, version, **overrides):
    values = {
        "actor": _actor(world, "front_desk"),
        "patient": world.patient_a,
        "document_version_id": version.pk,
        "signed_name": world.patient_a.display_name,
        "signed_at": timezone.now(),
        "witnessed_by_id": world.staff["nurse"].pk,
    }
    return consent_signature_record(**{**values, **overrides})


def test_publishing_creates_numbered_versions_with_the_hash_of_their_text(world):
    first = _publish(world)
    second = _publish(world, body=default_body("iv") + "\nA new paragraph.\n", based_on=1)
    assert (first.number, second.number) == (1, 2)
    assert second.body_sha256 == hashlib.sha256(second.body.encode()).hexdigest()
    assert first.document_id == second.document_id


def test_publishing_from_a_stale_version_is_a_conflict(world):
    _publish(world)
    _publish(world, body=default_body("iv") + "\nChanged.\n", based_on=1)
    with pytest.raises(Conflict) as refused:
        _publish(world, body=default_body("iv") + "\nMine.\n", based_on=1)
    assert refused.value.field == "based_on"


def test_publishing_the_same_text_again_is_refused(world):
    _publish(world)
    with pytest.raises(Refused):
        _publish(world, based_on=1)


def test_only_a_clinic_admin_publishes(world):
    with pytest.raises(PermissionDenied):
        consent_document_publish(
            actor=_actor(world, "nurse"), route="iv", title="T", body="x" * 40, based_on=0
        )


def test_a_published_text_is_never_edited(world):
    version = _publish(world)
    version.body = "something else"
    with pytest.raises(ValueError, match="never edited"):
        version.save()


def test_a_witnessed_signature_records_the_hash_of_what_was_signed(world):
    version = _publish(world)
    signature = _sign(world, version)
    assert signature.body_sha256 == version.body_sha256
    assert (signature.witnessed_by, signature.recorded_by) == (
        world.staff["nurse"],
        world.staff["front_desk"],
    )
    status = consent_status(patient=world.patient_a, route="iv")
    assert status.has_consent and not status.needs_reconsent


def test_a_new_version_asks_for_reconsent(world):
    version = _publish(world)
    _sign(world, version)
    _publish(world, body=default_body("iv") + "\nNew risk wording.\n", based_on=1)
    status = consent_status(patient=world.patient_a, route="iv")
    assert status.has_consent and status.needs_reconsent


def test_only_the_current_version_can_be_signed(world):
    old = _publish(world)
    _publish(world, body=default_body("iv") + "\nNew.\n", based_on=1)
    with pytest.raises(Refused) as refused:
        _sign(world, old)
    assert refused.value.code == "consent_version_outdated"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"signed_name": " "}, "signed_name"),
        ({"signed_at": timezone.now() + timedelta(hours=2)}, "signed_at"),
        ({"witnessed_by_id": 0}, "witnessed_by"),
    ],
)
def test_a_signature_without_a_name_a_real_time_or_a_staff_witness_is_refused(
    world, override, field
):
    version = _publish(world)
    with pytest.raises(Refused) as refused:
        _sign(world, version, **override)
    assert refused.value.field == field
    assert not ConsentSignature.objects.exists()


def test_a_witness_from_another_clinic_is_refused(world):
    version = _publish(world)
    with pytest.raises(Refused):
        _sign(world, version, witnessed_by_id=world.outsiders["nurse"].pk)


def test_a_retried_submission_records_once(world):
    version = _publish(world)
    first = _sign(world, version, idempotency_key="k-123")
    again = _sign(world, version, idempotency_key="k-123")
    assert first.pk == again.pk
    assert ConsentSignature.objects.count() == 1
    other_patient = PatientFactory(clinic=world.clinic_a)
    with pytest.raises(Conflict):
        _sign(world, version, idempotency_key="k-123", patient=other_patient)


def test_withdrawal_keeps_the_signed_copy_and_ends_the_consent(world):
    signature = _sign(world, _publish(world))
    withdrawn = consent_signature_withdraw(
        actor=_actor(world, "nurse"), signature=signature, reason="Changed her mind."
    )
    assert withdrawn.withdrawn_by == world.staff["nurse"]
    assert withdrawn.body_sha256 == signature.body_sha256
    assert not consent_status(patient=world.patient_a, route="iv").has_consent
    with pytest.raises(Conflict):
        consent_signature_withdraw(actor=_actor(world, "nurse"), signature=withdrawn, reason="x")


# --- API ----------------------------------------------------------------------------------------


def _post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_the_api_publishes_signs_and_shows_the_signed_copy(world):
    admin = world.api(world.staff["admin"])
    published = _post(
        admin,
        "/api/v1/consent/documents",
        {
            "route": "esketamine",
            "title": "Esketamine consent",
            "body": default_body("esketamine"),
            "based_on": 0,
        },
    )
    assert published.status_code == 201, published.content
    version = published.json()
    assert version["number"] == 1 and version["route"] == "esketamine"
    desk = world.api(world.staff["front_desk"])
    body = {
        "document_version_id": version["id"],
        "signed_name": world.patient_a.display_name,
        "signed_at": timezone.now().isoformat(),
        "witnessed_by_id": world.staff["nurse"].pk,
    }
    url = f"/api/v1/patients/{world.patient_a.pk}/consents"
    signed = _post(desk, url, body, **{"Idempotency-Key": "abc"})
    again = _post(desk, url, body, **{"Idempotency-Key": "abc"})
    assert signed.status_code == 201 and again.json()["id"] == signed.json()["id"]
    copy = desk.get(f"/api/v1/consent/signatures/{signed.json()['id']}").json()
    assert copy["body"] == version["body"] and copy["body_sha256"] == version["body_sha256"]
    standing = {r["route"]: r for r in desk.get(url).json()["routes"]}
    assert standing["esketamine"]["state"] == "signed"
    assert standing["iv"]["state"] == "none_published"


def test_the_api_refuses_a_naive_signing_time_and_a_nurse_publishing(world):
    version = _publish(world)
    response = _post(
        world.api(world.staff["nurse"]),
        f"/api/v1/patients/{world.patient_a.pk}/consents",
        {
            "document_version_id": version.pk,
            "signed_name": "Ada Quill",
            "signed_at": "2025-01-01T10:00:00",
            "witnessed_by_id": world.staff["nurse"].pk,
        },
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "signed_at"
    refused = _post(
        world.api(world.staff["nurse"]),
        "/api/v1/consent/documents",
        {"route": "iv", "title": "T", "body": "x" * 40, "based_on": 1},
    )
    assert refused.status_code == 403


def test_another_clinic_cannot_read_or_withdraw_a_signature(world):
    signature = _sign(world, _publish(world))
    outsider = world.api(world.outsiders["nurse"])
    assert outsider.get(f"/api/v1/consent/signatures/{signature.pk}").status_code == 404
    response = _post(
        outsider, f"/api/v1/consent/signatures/{signature.pk}/withdraw", {"reason": "no"}
    )
    assert response.status_code == 404


# --- pages --------------------------------------------------------------------------------------


def test_an_admin_publishes_from_the_page_starting_from_the_template(world):
    client = world.web(world.staff["admin"])
    page = client.get("/consent/documents/new/?route=im")
    assert "Other choices" in page.content.decode()
    response = client.post(
        "/consent/documents/new/?route=im",
        {"route": "im", "title": "IM consent", "body": default_body("im"), "based_on": 0},
    )
    assert response.status_code == 302
    assert ConsentDocumentVersion.objects.get().document.route == "im"


def test_staff_record_a_signature_on_the_page_and_open_the_printable_copy(world):
    version = _publish(world)
    client = world.web(world.staff["front_desk"])
    form = client.get(f"/consent/patients/{world.patient_a.pk}/sign/?route=iv")
    key = form.context["form"].initial["idempotency_key"]
    data = {
        "route": "iv",
        "document_version_id": version.pk,
        "idempotency_key": key,
        "signed_name": world.patient_a.display_name,
        "signed_at": "2025-02-03T10:15",
        "witnessed_by": world.staff["nurse"].pk,
        "read_confirmed": "on",
    }
    response = client.post(f"/consent/patients/{world.patient_a.pk}/sign/?route=iv", data)
    assert response.status_code == 302
    client.post(f"/consent/patients/{world.patient_a.pk}/sign/?route=iv", data)  # double click
    signature = ConsentSignature.objects.get()
    copy = client.get(response["Location"]).content.decode()
    assert version.body_sha256 in copy and "matches the text above" in copy
    # the printable copy links its print stylesheet (no inline styles under the CSP)
    assert "consent/print.css" in copy and world.patient_a.display_name in copy
    assert signature.signed_at.isoformat().startswith("2025-02-03T15:15")  # 10:15 in New York


def test_the_signature_form_needs_the_read_confirmation(world):
    version = _publish(world)
    client = world.web(world.staff["nurse"])
    response = client.post(
        f"/consent/patients/{world.patient_a.pk}/sign/?route=iv",
        {
            "route": "iv",
            "document_version_id": version.pk,
            "idempotency_key": "x1",
            "signed_name": "Given Family",
            "signed_at": "2025-02-03T10:15",
            "witnessed_by": world.staff["nurse"].pk,
        },
    )
    assert response.status_code == 422
    assert not ConsentSignature.objects.exists()


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_consent_pages_have_a_fixed_query_budget(world):
    version = _publish(world)
    client = world.web(world.staff["nurse"])
    patient_url = f"/consent/patients/{world.patient_a.pk}/"
    first = ConsentSignatureFactory(
        patient=world.patient_a, document_version=version, witnessed_by=world.staff["nurse"]
    )
    client.get(patient_url)
    urls = [patient_url, "/consent/documents/", f"/consent/documents/{version.document_id}/"]
    before = [_count(client, url) for url in urls]
    for n in range(2, 25):
        # one live signature per text: each revision is signed again
        newer = _publish(world, body=default_body("iv") + f"\nRevision {n}.\n", based_on=n - 1)
        ConsentSignatureFactory(
            patient=world.patient_a, document_version=newer, witnessed_by=world.staff["nurse"]
        )
    after = [_count(client, url) for url in urls]
    assert after == before
    assert max(after) <= 15
    assert _count(client, f"/consent/signatures/{first.pk}/") <= 14


def test_the_signing_and_version_pages_do_not_grow_with_the_staff_list(world):
    version = _publish(world)
    client = world.web(world.staff["nurse"])
    sign_url = f"/consent/patients/{world.patient_a.pk}/sign/?route=iv"
    version_url = f"/consent/versions/{version.pk}/"
    client.get(sign_url)
    before = (_count(client, sign_url), _count(client, version_url))
    for n in range(20):
        member(world.clinic_a, Role.NURSE, f"a.extra{n}")
    assert (_count(client, sign_url), _count(client, version_url)) == before
    assert max(before) <= 17
