"""As you type: the chart shows how the screening will read a condition, medicine or allergy."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/patients/vocabulary/check/"


def _check(world, role="nurse", **params):
    response = world.web(world.staff[role]).get(URL, params, headers={"HX-Request": "true"})
    return response.status_code, response.content.decode()


def test_other_conditions_are_read_line_by_line_as_the_screening_will(world):
    status, fragment = _check(
        world, kind="condition", other="abdominal aortic aneurysm\nintracerebal haemorrhage"
    )
    assert status == 200
    assert "abdominal aortic aneurysm → Aortic aneurysm (thoracic or abdominal)" in fragment
    assert "<strong>intracerebal haemorrhage</strong>: the screening will ask a prescriber" in (
        fragment
    )
    assert "<em>intracerebral haemorrhage</em>" in fragment.lower()  # did you mean


def test_a_brand_name_is_shown_with_its_ingredient_and_an_unknown_one_with_suggestions(world):
    _, fragment = _check(world, kind="medicine", **{"items-0-generic_name": "Lyrica 75 mg"})
    assert "pregabalin (RxNorm 187832; Gabapentinoids" in fragment
    _, fragment = _check(world, kind="medicine", text="sertralin")
    assert "not understood" in fragment and "<em>sertraline</em>" in fragment


def test_an_allergy_to_ketamine_by_brand_is_understood(world):
    _, fragment = _check(world, kind="allergy", text="Ketalar")
    assert "understood" in fragment and "ketamine (RxNorm 6130" in fragment


def test_an_unknown_kind_reads_as_conditions_and_nothing_typed_shows_nothing(world):
    _, fragment = _check(world, kind="spells", text="asthma")
    assert "asthma → Asthma" in fragment
    status, fragment = _check(world, kind="condition", text="")
    assert (status, fragment.strip()) == (200, "")


def test_only_those_who_edit_the_chart_may_ask(world):
    assert _check(world, role="front_desk", text="asthma")[0] == 403


def test_the_intake_wires_the_check_to_other_conditions_medicines_and_allergies(world):
    client = world.web(world.staff["nurse"])
    for step in ("medical_history", "psychiatric_history", "medicines", "allergies"):
        page = client.get(f"/patients/{world.patient_a.pk}/intake/?step={step}").content.decode()
        assert f'hx-get="{URL}"' in page, step
        assert 'id="vocabulary-check"' in page, step
    medicines = client.get(f"/patients/{world.patient_a.pk}/intake/?step=medicines").content
    assert b'<option value="Xanax">' in medicines  # the datalist from the vocabulary
