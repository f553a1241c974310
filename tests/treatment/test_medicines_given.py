"""Medicines given during a session: recorded from the vocabulary with dose, unit, route and
time; a name it does not know is kept and marked for review; entered in error like the rest."""

from datetime import timedelta
from decimal import Decimal

import pytest

from ketacare.audit.models import AuditEntry
from ketacare.clinical.errors import InvalidInput
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.treatment import services
from ketacare.treatment.models import MedicineGiven
from tests.treatment.factories import check_in, key, walk_to

pytestmark = pytest.mark.django_db


def _dosing(world, team):
    return walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")


def _give(team, session, **overrides):
    values = {
        "actor": team.nurse,
        "session_id": session.pk,
        "idempotency_key": key(),
        "medicine": "Zofran",
        "dose": Decimal("4"),
        "unit": "mg",
        "route": "iv",
        "indication": "Nausea",
    } | overrides
    return services.medicine_given_record(**values)


def test_a_brand_name_is_recorded_with_its_ingredient_dose_route_and_time(world, team):
    # given a session in dosing
    session = _dosing(world, team)
    # when the nurse records Zofran 4 mg IV
    given = _give(team, session)
    # then the ingredient is held, nothing needs review, and it is audited
    row = MedicineGiven.objects.get(pk=given.pk)
    assert (row.ingredients, row.needs_review) == (["ondansetron"], False)
    assert (row.dose, row.unit, row.route) == (Decimal("4"), "mg", "iv")
    assert row.given_at <= clock.now()
    assert AuditEntry.objects.filter(
        object_type="medicine_given", object_id=str(row.pk), patient_id=world.patient_a.pk
    ).exists()


def test_free_text_is_recorded_and_marked_needs_review(world, team):
    session = _dosing(world, team)
    given = _give(team, session, medicine="the blue antiemetic")
    assert given.needs_review and given.ingredients == []
    page = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/").content.decode()
    assert "the blue antiemetic" in page and "Needs review" in page


def test_a_retried_submission_records_once(world, team):
    session = _dosing(world, team)
    same = key()
    first = _give(team, session, idempotency_key=same)
    again = _give(team, session, idempotency_key=same)
    assert first.pk == again.pk
    assert MedicineGiven.objects.filter(session=session).count() == 1


def test_a_time_in_the_future_is_refused(world, team):
    session = _dosing(world, team)
    with pytest.raises(Refused) as refused:
        _give(team, session, given_at=clock.now() + timedelta(hours=1))
    assert refused.value.code == "future_time"


def test_a_missing_dose_or_unknown_route_is_refused_naming_the_field(world, team):
    session = _dosing(world, team)
    with pytest.raises(InvalidInput) as no_dose:
        _give(team, session, dose=None)
    with pytest.raises(InvalidInput) as bad_route:
        _give(team, session, route="rectal")
    assert (no_dose.value.field, bad_route.value.field) == ("dose", "route")
    assert not MedicineGiven.objects.filter(session=session).exists()


def test_a_medicine_given_entered_in_error_stays_visible_with_its_reason(world, team):
    # given midazolam recorded on the wrong session
    session = _dosing(world, team)
    given = _give(team, session, medicine="midazolam", dose=Decimal("1"))
    # when marked entered in error on the page
    response = world.web(world.staff["nurse"]).post(
        f"/sessions/{session.pk}/medicines/{given.pk}/entered-in-error/",
        {"reason": "Recorded on the wrong patient"},
    )
    assert response.status_code == 302
    # then it is kept, marked, and a second mark conflicts
    row = MedicineGiven.objects.get(pk=given.pk)
    assert row.entered_in_error_by == world.staff["nurse"] and row.medicine == "midazolam"
    with pytest.raises(Conflict) as again:
        services.medicine_given_enter_in_error(
            actor=team.nurse, session_id=session.pk, medicine_given_id=row.pk, reason="Again!"
        )
    assert again.value.code == "already_entered_in_error"
    page = world.web(world.staff["nurse"]).get(f"/sessions/{session.pk}/").content.decode()
    assert "Entered in error" in page and "Recorded on the wrong patient" in page


def test_the_session_page_form_records_it_and_the_summary_prints_it(world, team):
    session = _dosing(world, team)
    client = world.web(world.staff["nurse"])
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert f'action="/sessions/{session.pk}/medicines/"' in page
    response = client.post(
        f"/sessions/{session.pk}/medicines/",
        {
            "idempotency_key": key(),
            "medicine": "labetalol",
            "dose": "10",
            "unit": "mg",
            "route": "iv",
            "indication": "BP 182/104 after the dose",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    summary = client.get(f"/sessions/{session.pk}/summary/").content.decode()
    assert "labetalol" in summary and "10 mg intravenous" in summary


def test_a_refused_form_shows_the_reason_on_the_page(world, team):
    session = _dosing(world, team)
    response = world.web(world.staff["nurse"]).post(
        f"/sessions/{session.pk}/medicines/",
        {"idempotency_key": key(), "medicine": "ondansetron", "dose": "4", "unit": "mg"},
    )
    assert response.status_code == 422
    assert not MedicineGiven.objects.filter(session=session).exists()


def test_another_clinics_session_is_not_found(world, team):
    session = _dosing(world, team)
    outsider = world.web(world.outsiders["nurse"])
    response = outsider.post(
        f"/sessions/{session.pk}/medicines/",
        {"idempotency_key": key(), "medicine": "Zofran", "dose": "4", "unit": "mg", "route": "iv"},
    )
    assert response.status_code == 404
