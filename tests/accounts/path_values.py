"""Path values for the route walker: a membership of the given clinic."""

FACTORIES = {
    "membership_id": lambda clinic, patient, staff: (
        staff["nurse"].memberships.get(clinic=clinic).pk
    ),
}
