"""The tenancy guard for path parameters: another clinic's record is not found (404).

Each app registers the path parameters its routes use (`patient_id` → `patients.Patient`).
The page guard and the API authentication check them before a view runs or a body is
parsed, so a record of another clinic answers 404 whatever else is wrong with the request.
Views still fetch through their clinic-scoped selectors; this is the second line.
"""

from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404

from ketacare.kernel.bounds import parse_record_id

PATH_OBJECTS: dict[str, str] = {}


def register_path_object(parameter: str, model_label: str) -> None:
    """Declare that `parameter` in a URL names a row of `model_label` (which has `clinic`)."""
    PATH_OBJECTS[parameter] = model_label


def ensure_path_objects_in_clinic(kwargs: Mapping[str, Any], clinic_id: int) -> None:
    """Raise 404 unless every id in the URL names a record of this clinic."""
    for parameter, value in kwargs.items():
        if not parameter.endswith("_id"):
            continue
        label = PATH_OBJECTS.get(parameter)
        if label is None:
            raise ImproperlyConfigured(
                f"Path parameter '{parameter}' is not registered; call register_path_object "
                "in the app's AppConfig.ready()."
            )
        model = apps.get_model(label)
        record_id = parse_record_id(value)  # "abc", 2**70: no such row, not a server error
        if record_id is None or not (
            model._default_manager.filter(pk=record_id, clinic_id=clinic_id).exists()
        ):
            raise Http404(f"{model._meta.verbose_name.capitalize()} not found.")
