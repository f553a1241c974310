"""Path values for the route walker: a measurement of the given clinic."""

from tests.patients.factories import BodyMeasurementFactory

FACTORIES = {
    "measurement_id": lambda clinic, patient, staff: (
        BodyMeasurementFactory(patient=patient, recorded_by=staff["nurse"]).pk
    ),
}
