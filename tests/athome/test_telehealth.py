"""A clinic's telemedicine-prescribing setting: what applies after the DEA flexibilities end is
the clinic's choice, recorded with a reason, kept as a chained history, and applied to every new
prescription of that clinic only."""

from __future__ import annotations

from datetime import date

import pytest

from ketacare.accounts.access import PermissionDenied
from ketacare.athome.models import TelehealthPolicy
from ketacare.athome.telehealth import policy_version, telehealth_policy_set, telehealth_rules_for
from ketacare.errors import KetaCareError
from tests.athome.conftest import actor, enrol, prescribe

pytestmark = pytest.mark.django_db

EXTENSION = ("telemedicine_flexibility", "in_person_evaluation")
WHY = "A fifth extension of the flexibilities through 2027 (Federal Register)."


def _set(world, bases=EXTENSION, *, period_id="from_2027", reason=WHY, version=None, role="admin"):
    who = actor(world, role)
    seen = policy_version(clinic_id=who.clinic_id) if version is None else version
    return telehealth_policy_set(
        actor=who, period_id=period_id, bases=bases, reason=reason, version=seen
    )


def _refused(call):
    with pytest.raises(KetaCareError) as caught:
        call()
    return caught.value


def test_under_the_shipped_rules_a_2027_video_prescription_is_refused(world):
    programme = enrol(world)
    error = _refused(lambda: prescribe(world, programme, issued_on=date(2027, 1, 4)))
    assert error.code == "rx_legal_basis_not_allowed"


def test_a_clinic_that_records_an_extension_may_prescribe_by_video_in_2027(world):
    programme = enrol(world)
    row = _set(world)
    assert (row.period_id, row.bases, row.seq) == ("from_2027", list(EXTENSION), 1)
    signed = prescribe(world, programme, issued_on=date(2027, 1, 4))
    assert (signed.rules_period, signed.legal_basis) == ("from_2027", "telemedicine_flexibility")


def test_the_setting_is_the_clinics_own(world):
    _set(world)
    other = telehealth_rules_for(clinic_id=world.clinic_b.pk)
    assert other.period_on(date(2027, 1, 4)).bases == ("in_person_evaluation",)
    mine = telehealth_rules_for(clinic_id=world.clinic_a.pk)
    assert mine.period_on(date(2027, 1, 4)).bases == EXTENSION


def test_a_later_choice_replaces_the_earlier_and_both_stay_in_the_history(world):
    _set(world)
    _set(world, ("in_person_evaluation",), reason="The extension lapsed.")
    rows = list(TelehealthPolicy.objects.filter(clinic=world.clinic_a).order_by("seq"))
    assert [r.bases for r in rows] == [list(EXTENSION), ["in_person_evaluation"]]
    rules = telehealth_rules_for(clinic_id=world.clinic_a.pk)
    assert rules.period_on(date(2027, 3, 1)).bases == ("in_person_evaluation",)
    # and the history cannot be rewritten
    from ketacare.audit.models import AppendOnlyError

    with pytest.raises(AppendOnlyError):
        rows[0].save()


def test_the_flexibilities_period_is_fixed_by_regulation(world):
    error = _refused(lambda: _set(world, period_id="flexibilities_through_2026"))
    assert error.code == "not_configurable"
    assert error.field == "period_id"


@pytest.mark.parametrize("bases", [(), ("carrier_pigeon",), ("in_person_evaluation", "nonsense")])
def test_an_unknown_or_empty_choice_of_bases_is_refused(world, bases):
    error = _refused(lambda: _set(world, bases))
    assert error.code == "invalid_bases"
    assert error.field == "bases"
    assert not TelehealthPolicy.objects.exists()


def test_a_setting_needs_a_reason(world):
    error = _refused(lambda: _set(world, reason="  "))
    assert error.code == "required"
    assert error.field == "reason"


def test_a_setting_made_on_a_stale_page_is_refused(world):
    _set(world, version=0)
    error = _refused(lambda: _set(world, ("in_person_evaluation",), version=0))
    assert error.code == "stale_version"
    assert error.status_code == 409
    assert TelehealthPolicy.objects.count() == 1


@pytest.mark.parametrize("role", ["prescriber", "nurse"])
def test_only_an_administrator_sets_it(world, role):
    with pytest.raises(PermissionDenied):
        _set(world, role=role)


def test_a_stored_choice_the_rules_no_longer_accept_holds_every_prescription(world):
    from ketacare.audit.chained import chain_append

    programme = enrol(world)
    # a choice recorded under older rules, for a period the shipped data no longer has
    chain_append(
        TelehealthPolicy,
        chain_key=f"clinic:{world.clinic_a.pk}",
        values={
            "clinic_id": world.clinic_a.pk, "period_id": "from_2026_retired",
            "bases": ["telemedicine_flexibility"], "reason": "old",
            "set_by_id": world.staff["admin"].pk,
            "set_at": programme.enrolled_at,
        },
    )  # fmt: skip
    error = _refused(lambda: prescribe(world, programme, issued_on=date(2026, 12, 1)))
    assert error.code == "telehealth_policy_invalid"


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_periods_and_an_administrator_sets_the_2027_bases(world):
    client = world.web(world.staff["admin"])
    page = client.get("/athome/telehealth/").content.decode()
    assert 'data-period="from_2027"' in page and 'data-testid="telehealth-form"' in page
    answer = client.post(
        "/athome/telehealth/set/",
        {"period_id": "from_2027", "bases": list(EXTENSION), "reason": WHY, "version": 0},
    )
    assert answer.status_code == 302
    page = client.get("/athome/telehealth/").content.decode()
    assert "fifth extension" in page and page.count('data-testid="telehealth-history-row"') == 1


def test_a_refused_setting_shows_on_the_form_and_writes_nothing(world):
    client = world.web(world.staff["admin"])
    answer = client.post(
        "/athome/telehealth/set/",
        {"period_id": "from_2027", "bases": list(EXTENSION), "reason": "", "version": 0},
    )
    assert answer.status_code == 422
    assert "Say why" in answer.content.decode()
    stale = client.post(
        "/athome/telehealth/set/",
        {"period_id": "from_2027", "bases": list(EXTENSION), "reason": WHY, "version": 5},
    )
    assert stale.status_code == 409 and "Someone else changed" in stale.content.decode()
    assert not TelehealthPolicy.objects.exists()


def test_a_prescriber_reads_the_rules_but_gets_no_form_and_cannot_post(world):
    client = world.web(world.staff["prescriber"])
    page = client.get("/athome/telehealth/").content.decode()
    assert 'data-period="from_2027"' in page and 'data-testid="telehealth-form"' not in page
    answer = client.post(
        "/athome/telehealth/set/",
        {"period_id": "from_2027", "bases": list(EXTENSION), "reason": WHY, "version": 0},
    )
    assert answer.status_code == 403
    assert not TelehealthPolicy.objects.exists()
