"""Validate FHIR JSON against two maintained model libraries.

- fhirclient 4.4.0 (SMART Health IT): models generated from FHIR 4.0.1, the R4 release itself;
  strict parsing refuses unknown elements, wrong types and missing required elements.
- fhir.resources 8.3.0, subpackage `fhir.resources.R4B` (FHIR 4.3.0, pydantic v2): the
  library's root package is R5 and its R4 (4.0.1) releases need pydantic v1, which the rest of
  KetaCare cannot use; R4B is R4 with corrections and its models of the resources served here
  match R4's. It also checks primitive formats (ids, dates, codes, URIs).
A resource passes only if both accept it.
"""

from __future__ import annotations

import importlib
from typing import Any

from fhir.resources.R4B import get_fhir_model_class


def _fhirclient_class(resource_type: str) -> Any:
    module = importlib.import_module(f"fhirclient.models.{resource_type.lower()}")
    return getattr(module, resource_type)


def validate(resource: dict[str, Any]) -> None:
    """Raise if either library refuses the resource (and every resource inside a Bundle)."""
    kind = resource["resourceType"]
    get_fhir_model_class(kind).model_validate(resource)
    _fhirclient_class(kind)(resource, strict=True)
    for entry in resource.get("entry", []) if kind == "Bundle" else []:
        validate(entry["resource"])
