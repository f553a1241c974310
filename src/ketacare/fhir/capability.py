"""The CapabilityStatement: what this server reads, searches and exports."""

from __future__ import annotations

from typing import Any

from ketacare.fhir.registry import REGISTRY
from ketacare.fhir.search import COMMON
from ketacare.kernel import clock

SEARCH_TYPES = {
    "reference": "reference",
    "date": "date",
    "token": "token",
    "status": "token",
    "category": "token",
    "string": "string",
    "fixed": "token",
}
COMMON_TYPES = {"_id": "token", "_lastUpdated": "date"}


def capability_statement(base: str) -> dict[str, Any]:
    """The server's CapabilityStatement (FHIR 4.0.1, JSON, read and search, Bulk Data)."""
    resources = []
    for name, resource_type in sorted(REGISTRY.items()):
        params = [{"name": n, "type": t} for n, t in COMMON_TYPES.items()] + [
            {"name": p.name, "type": SEARCH_TYPES[p.kind]} for p in resource_type.params
        ]
        entry: dict[str, Any] = {
            "type": name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": params,
            "documentation": resource_type.documentation or name,
        }
        if resource_type.profile:
            entry["supportedProfile"] = [resource_type.profile]
        if resource_type.includes:
            entry["searchInclude"] = [f"{name}:{i.name}" for i in resource_type.includes]
        if name in {"Patient"}:
            entry["operation"] = [
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                }
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": clock.wall_now().date().isoformat(),
        "publisher": "KetaCare",
        "kind": "instance",
        "software": {"name": "KetaCare"},
        "implementation": {"description": "KetaCare FHIR R4 server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "instantiates": [
            "http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server",
            "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data",
        ],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Bearer tokens (`ketacare fhir token create`) with SMART-style scopes; each "
                    "token reads only its clinic. Paging: `_count` (at most 500) and `_offset`; "
                    f"parameters every type takes: {', '.join(sorted(COMMON))}. Unknown "
                    "parameters answer 400 with an OperationOutcome."
                ),
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "Bearer token; scopes user/*.read, system/*.read, user/Observation.read"
                    ),
                },
                "resource": resources,
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    },
                    {
                        "name": "group-export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                    },
                ],
            }
        ],
    }
