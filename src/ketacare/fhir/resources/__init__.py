"""Every FHIR resource type KetaCare serves; importing this package registers them.

The modules register in this order (the registry keeps it): the directory (Patient,
Practitioner, Organization, Location, Questionnaire), a session's records, courses and
appointments, consents, questionnaire responses, provenance, the chart, observations, at-home
prescriptions.
"""

# isort: off
from ketacare.fhir.resources import directory  # noqa: F401
from ketacare.fhir.resources import sessions  # noqa: F401
from ketacare.fhir.resources import courses  # noqa: F401
from ketacare.fhir.resources import consents  # noqa: F401
from ketacare.fhir.resources import responses  # noqa: F401
from ketacare.fhir.resources import provenance  # noqa: F401
from ketacare.fhir.resources import chart  # noqa: F401
from ketacare.fhir.resources import observations  # noqa: F401
from ketacare.fhir.resources import prescriptions  # noqa: F401
# isort: on
