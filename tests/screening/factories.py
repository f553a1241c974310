"""Factories for screenings."""

import factory
from django.utils import timezone

from ketacare.screening.models import Screening, ScreeningStatus


class ScreeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Screening

    patient = factory.SubFactory("tests.factories.PatientFactory")
    clinic = factory.LazyAttribute(lambda o: o.patient.clinic)
    protocol_id = "iv_induction_6x"
    protocol_version = "2025.1"
    route = "iv"
    status = ScreeningStatus.NEEDS_REVIEW
    result = factory.LazyFunction(
        lambda: {"fired": [], "missing_facts": ["systolic_mmhg"], "notes": []}
    )
    facts = factory.LazyFunction(dict)
    facts_used = factory.LazyFunction(list)
    run_by = factory.SubFactory("tests.factories.UserFactory")
    run_at = factory.LazyFunction(timezone.now)
