"""The recovery demo: a patient on the safety-review worklist with evidence and a plan, and a
programme patient with weeks of use-calendar days; loading twice leaves one copy."""

import pytest
from django.core.management import call_command

from ketacare.recovery.models import (
    MisuseReview,
    RecoveryPlanVersion,
    SudProgramme,
    UseDay,
)

pytestmark = pytest.mark.django_db


def test_the_demo_shows_recovery_once_however_often_it_loads():
    # when the demo loads twice
    call_command("init_demo", verbosity=0)
    call_command("init_demo", verbosity=0)
    # then the first clinic has one patient awaiting safety review, with evidence
    review = MisuseReview.objects.get()
    assert review.clinic.slug == "north"
    ids = {signal["id"] for signal in review.signals}
    assert {"craving_rising", "lost_dose"} <= ids
    assert all(signal["evidence"] for signal in review.signals)
    # a relapse-prevention plan, and a programme with weeks of calendar days
    assert RecoveryPlanVersion.objects.filter(patient=review.patient).count() == 1
    programme = SudProgramme.objects.get()
    assert UseDay.objects.filter(programme=programme).count() == 33
    assert UseDay.objects.filter(programme=programme, used=True).count() == 2
