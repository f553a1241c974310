"""Screening from the chart fails closed: the issue's examples through the service, API and page."""

import json

import pytest

from tests.patients.factories import complete_chart

pytestmark = pytest.mark.django_db


def _run(world, protocol_id="iv_induction_6x"):
    response = world.api(world.staff["nurse"]).post(
        f"/api/v1/patients/{world.patient_a.pk}/screenings",
        json.dumps({"protocol_id": protocol_id}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_free_text_aortic_aneurysm_under_other_conditions_excludes(world):
    # was: eligible, no rule fired (only the ticked boxes were read)
    complete_chart(
        world.patient_a,
        world.staff["nurse"],
        medical_history={"other": ["abdominal aortic aneurysm"]},
    )
    body = _run(world)
    assert body["status"] == "ineligible"
    assert "aneurysmal_vascular_disease" in [r["rule_id"] for r in body["fired"]]
    assert body["unrecognised"] == []


def test_an_unknown_other_condition_is_needs_review_named_on_the_page_and_in_the_api(world):
    # was: eligible
    complete_chart(
        world.patient_a,
        world.staff["nurse"],
        medical_history={"conditions": ["hypertension"], "other": ["Ehlers-Danlos syndrome"]},
    )
    body = _run(world)
    assert body["status"] == "needs review"
    assert body["fired"] == []
    assert [(e["fact"], e["entry"]) for e in body["unrecognised"]] == [
        ("medical_history", "Ehlers-Danlos syndrome")
    ]
    page = world.web(world.staff["prescriber"]).get(f"/screening/{body['id']}/").content.decode()
    assert "Entries not understood (1)" in page
    assert "Ehlers-Danlos syndrome" in page


@pytest.mark.parametrize(
    ("medicine", "rule_id"),
    [
        ("linezolid", "maois"),
        ("gabapentin", "gabapentinoids"),
        ("pregabalin", "gabapentinoids"),
        ("sodium oxybate", "other_cns_depressants"),
        ("carisoprodol", "other_cns_depressants"),
        ("Xanax", "benzodiazepines"),
    ],
)
def test_interacting_medicines_and_brands_in_the_chart_need_review(world, medicine, rule_id):
    # was: eligible (not in any class, or a brand name not resolved to its ingredient)
    complete_chart(
        world.patient_a, world.staff["nurse"], medicines={"items": [{"generic_name": medicine}]}
    )
    body = _run(world)
    assert body["status"] == "needs review"
    assert rule_id in [r["rule_id"] for r in body["fired"]]


def test_a_brand_name_not_in_the_vocabulary_is_needs_review(world):
    complete_chart(
        world.patient_a, world.staff["nurse"], medicines={"items": [{"generic_name": "Zzyzxa"}]}
    )
    body = _run(world)
    assert body["status"] == "needs review"
    assert [e["entry"] for e in body["unrecognised"]] == ["zzyzxa"]


@pytest.mark.parametrize("protocol_id", ["iv_induction_6x", "im_titration"])
def test_no_diagnosis_and_no_failed_trial_does_not_screen_eligible_for_iv_or_im(world, protocol_id):
    # was: eligible for the IV and IM protocols
    complete_chart(
        world.patient_a,
        world.staff["nurse"],
        diagnoses={"none_known": True},
        antidepressant_trials={"none_known": True},
    )
    body = _run(world, protocol_id)
    assert body["status"] == "ineligible"
    assert {"indication_not_matched", "trd_not_met"} <= {r["rule_id"] for r in body["fired"]}


def test_a_trial_whose_episode_the_form_left_unknown_is_not_counted_as_current(world):
    # was: the core defaulted "current episode" to yes
    chart = {
        "items": [
            {"drug": "sertraline", "weeks": "8", "outcome": "no_response", "adequate_dose": True},
            {"drug": "venlafaxine", "weeks": "8", "outcome": "no_response", "adequate_dose": True},
        ]
    }
    complete_chart(world.patient_a, world.staff["nurse"], antidepressant_trials=chart)
    body = _run(world)
    assert body["status"] == "needs review"
    assert "antidepressant_trials[0].current_episode" in body["missing_facts"]
