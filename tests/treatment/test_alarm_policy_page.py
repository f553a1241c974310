"""The alarm thresholds page puts the core's refusal on the threshold it names."""

import pytest

from ketacare.clinical.profiles import TUNABLE_ALARMS
from ketacare.treatment.models import AlarmPolicy
from ketacare.treatment.services.alarm_policy import default_alarm_thresholds

pytestmark = pytest.mark.django_db

URL = "/sessions/alarm-thresholds/"


def _defaults() -> dict[str, int]:
    base = default_alarm_thresholds()
    return {name: getattr(base, name) for name in TUNABLE_ALARMS}


def test_a_looser_threshold_is_refused_on_its_field(world):
    # given an admin who lowers the heart-rate floor, which loosens the alarm
    values = {**_defaults(), "heart_rate_below": 30, "reason": "Athletes"}
    # when the page is posted
    response = world.web(world.staff["admin"]).post(URL, values)
    # then the page answers 422 with the refusal on that field, and nothing is saved
    assert response.status_code == 422
    assert response.context["form"].errors["heart_rate_below"]
    assert not AlarmPolicy.objects.exists()


def test_a_tighter_threshold_is_saved(world):
    values = {**_defaults(), "spo2_below": _defaults()["spo2_below"] + 2, "reason": "Our policy"}
    response = world.web(world.staff["admin"]).post(URL, values)
    assert response.status_code == 302
    assert AlarmPolicy.objects.get().thresholds["spo2_below"] == values["spo2_below"]
