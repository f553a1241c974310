"""The benchmark floor: the least a signed-in page can cost (mounted only for benchmarks)."""

from django.http import Http404, HttpRequest, HttpResponse

from ketacare.accounts.permissions import Permission
from ketacare.patients.models import Patient
from ketacare.web.access import actor_of, clinic_view


@clinic_view(Permission.PATIENT_VIEW)
def floor(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Read one patient of the actor's clinic by primary key, through the same middleware."""
    actor = actor_of(request)
    patient = Patient.objects.filter(clinic_id=actor.clinic_id, pk=patient_id).first()
    if patient is None:
        raise Http404
    return HttpResponse(patient.mrn, content_type="text/plain")
