"""Records of a clinic for the route walker: a safety alert of one of its patients."""

from tests.outcomes.factories import suicidality_alert


def _alert(clinic, patient, staff):
    return suicidality_alert(patient).pk


FACTORIES = {"alert_id": _alert}
