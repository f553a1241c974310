"""Path values for the route walker: a screening of the given clinic."""

from tests.screening.factories import ScreeningFactory

FACTORIES = {
    "screening_id": lambda clinic, patient, staff: (
        ScreeningFactory(patient=patient, run_by=staff["nurse"]).pk
    ),
}
