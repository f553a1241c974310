"""Bulk Data export (HL7 FHIR Bulk Data Access IG): kick-off, the worker's run, status, expiry.

A kick-off records a job and queues `bulk_export_run` for `ketacare worker`; the worker streams
each type's rows through the same builders as the API into one NDJSON file per type, hashing as
it writes, so memory stays flat whatever the clinic's size. Files expire (`KETACARE_EXPORT_TTL_
HOURS`, default 24) and are deleted then; an expired job answers 404.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django_tasks import task

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Clinic
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.fhir.models import ExportFile, ExportJob, ExportStatus
from ketacare.fhir.registry import REGISTRY, BuildContext, Resource, ResourceType, build_all
from ketacare.fhir.scopes import Scopes
from ketacare.fhir.search import SearchError
from ketacare.kernel import clock
from ketacare.scheduling.models import Course

OUTPUT_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
KNOWN_PARAMETERS = {"_outputFormat", "_since", "_type"}
GROUPS = {
    "all": "Every patient of the clinic",
    "active-course": "Patients with an active treatment course",
}


def export_dir() -> Path:
    """Where export files are written (under the data directory unless configured)."""
    configured = getattr(settings, "KETACARE_EXPORT_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "exports"


def export_ttl() -> timedelta:
    """How long an export's files stay downloadable."""
    return timedelta(hours=int(getattr(settings, "KETACARE_EXPORT_TTL_HOURS", 24)))


def patient_types() -> list[str]:
    """Types in the patient compartment (everything with a patient)."""
    return [
        name
        for name, rt in REGISTRY.items()
        if rt.clinic_scoped and rt.sources and all(s.patient_lookup for s in rt.sources)
    ]


def system_types() -> list[str]:
    """Every type a system-level export writes."""
    return sorted(REGISTRY)


@dataclass(frozen=True)
class ExportRequest:
    """A validated kick-off."""

    level: str
    group_id: str
    types: list[str]
    since: datetime | None


def export_request_parse(
    *, level: str, group_id: str, query: dict[str, list[str]], actor: Actor, scopes: Scopes
) -> ExportRequest:
    """Check a kick-off's parameters, permission and scopes; raise `SearchError` for bad ones."""
    actor.require(Permission.FHIR_BULK_EXPORT)
    if level == "group" and group_id not in GROUPS:
        raise Http404(f"Group '{group_id}' is not known; groups: {', '.join(GROUPS)}.")
    for name in query:
        if name not in KNOWN_PARAMETERS:
            raise SearchError(
                f"'{name}' is not supported by $export "
                f"(supported: {', '.join(sorted(KNOWN_PARAMETERS))})",
                parameter=name,
            )
    output = query.get("_outputFormat", ["application/fhir+ndjson"])[-1]
    if output not in OUTPUT_FORMATS:
        raise SearchError("only NDJSON is produced", parameter="_outputFormat")
    since = None
    if "_since" in query:
        since = parse_datetime(query["_since"][-1])
        if since is None or since.tzinfo is None:
            raise SearchError("must be a FHIR instant with its offset", parameter="_since")
    allowed = system_types() if level == "system" else patient_types()
    types = allowed
    if "_type" in query:
        types = [t for raw in query["_type"] for t in raw.split(",") if t]
        unknown = [t for t in types if t not in allowed]
        if unknown or not types:
            raise SearchError(
                f"'{','.join(unknown) or '(empty)'}' cannot be exported at this level",
                parameter="_type",
            )
    not_covered = [t for t in types if not scopes.allows_read(t)]
    if not_covered:
        raise PermissionDenied(f"The token's scopes do not cover {', '.join(not_covered)}.")
    return ExportRequest(level, group_id, sorted(dict.fromkeys(types)), since)


def export_kickoff(*, actor: Actor, request: ExportRequest, request_url: str) -> ExportJob:
    """Record an export job and queue it for the worker (after the transaction commits)."""
    now = clock.wall_now()
    exports_prune(now=now)
    with transaction.atomic():
        job = ExportJob.objects.create(
            clinic=actor.clinic,
            requested_by=actor.user,
            level=request.level,
            group_id=request.group_id,
            types=request.types,
            since=request.since,
            request_url=request_url,
            transaction_time=now,
            created_at=now,
        )
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            object_type="fhir:export",
            object_id=job.pk,
            detail={
                "level": request.level,
                "group": request.group_id,
                "types": request.types,
                "since": request.since.isoformat() if request.since else None,
            },
        )
        transaction.on_commit(lambda: bulk_export_run.enqueue(job.pk))
    return job


def _patients(job: ExportJob) -> QuerySet[Any] | None:
    from ketacare.patients.models import Patient

    if job.level == "system":
        return None
    patients = Patient.objects.filter(clinic_id=job.clinic_id)
    if job.level == "group" and job.group_id == "active-course":
        patients = patients.filter(
            pk__in=Course.objects.filter(clinic_id=job.clinic_id, status="active").values(
                "patient_id"
            )
        )
    return patients.values("pk")


def export_resources(
    resource_type: ResourceType,
    ctx: BuildContext,
    *,
    since: datetime | None = None,
    patients: QuerySet[Any] | None = None,
) -> Iterator[Resource]:
    """Every resource of a type in the clinic, streamed in chunks (the export's one reader)."""
    if resource_type.static is not None:
        if since is None:
            yield from resource_type.static(ctx)
        return
    for source in resource_type.sources:
        qs = source.queryset(ctx.clinic)
        if since is not None:
            qs = qs.filter(_fhir_updated__gt=since)
        if patients is not None:
            if source.patient_lookup is None:
                continue
            qs = qs.filter(**{f"{source.patient_lookup}__in": patients})
        for row in qs.order_by("pk").iterator(chunk_size=2000):
            yield from build_all(source, [row], ctx)


def _write(path: Path, resources: Iterator[Resource]) -> tuple[int, int, str]:
    digest = hashlib.sha256()
    count = size = 0
    with path.open("wb") as out:
        for resource in resources:
            line = json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
            out.write(line)
            digest.update(line)
            size += len(line)
            count += 1
    return count, size, digest.hexdigest()


def export_run(*, job_id: int, base_url: str = "") -> ExportJob:
    """Write a job's NDJSON files, one per type; mark it complete (or failed, with the error)."""
    job = ExportJob.objects.select_related("clinic", "requested_by").get(pk=job_id)
    if job.status != ExportStatus.ACCEPTED:
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    folder = export_dir() / str(job.clinic_id) / str(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = BuildContext(clinic=job.clinic, base_url=base_url)
    counts: dict[str, int] = {}
    try:
        for name in job.types:
            path = folder / f"{name}.ndjson"
            count, size, sha = _write(
                path,
                export_resources(
                    REGISTRY[name],
                    ctx,
                    since=job.since,
                    patients=_patients(job),
                ),
            )
            counts[name] = count
            if count:
                ExportFile.objects.create(
                    clinic=job.clinic,
                    job=job,
                    resource_type=name,
                    path=str(path),
                    count=count,
                    size=size,
                    sha256=sha,
                )
            else:
                path.unlink()
    except Exception as error:  # noqa: BLE001 - the job records why, the worker carries on
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=str(error))
        shutil.rmtree(folder, ignore_errors=True)
        raise
    now = clock.wall_now()
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.COMPLETE, completed_at=now, expires_at=now + export_ttl(), counts=counts
    )
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        object_type="fhir:export",
        object_id=job.pk,
        clinic_id=job.clinic_id,
        username=job.requested_by.username,
        detail={"completed": True, "counts": counts},
    )
    job.refresh_from_db()
    return job


@task()
def bulk_export_run(job_id: int) -> dict[str, int]:
    """The worker's side of `$export`: write the job's files."""
    counts: dict[str, int] = export_run(job_id=job_id).counts
    return counts


def export_job_for_actor(*, actor: Actor, job_id: int) -> ExportJob:
    """An export job of the actor's clinic that the actor requested; else 404. Expired: 404."""
    exports_prune(now=clock.wall_now())
    job = ExportJob.objects.filter(
        pk=job_id, clinic_id=actor.clinic_id, requested_by=actor.user
    ).first()
    if job is None or job.status == ExportStatus.CANCELLED:
        raise Http404("No such export.")
    return job


def export_cancel(*, actor: Actor, job_id: int) -> None:
    """Cancel a job (or delete a finished one's files), as the Bulk Data IG's DELETE asks."""
    job = export_job_for_actor(actor=actor, job_id=job_id)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED)
    shutil.rmtree(export_dir() / str(job.clinic_id) / str(job.pk), ignore_errors=True)
    audit_record(
        actor=actor, action=AuditAction.DELETE, object_type="fhir:export", object_id=job.pk
    )


def export_file_for_actor(*, actor: Actor, job_id: int, file_id: int) -> ExportFile:
    """One file of a complete job of the actor's; the download is audited."""
    job = export_job_for_actor(actor=actor, job_id=job_id)
    file = ExportFile.objects.filter(pk=file_id, job=job).first()
    if file is None or job.status != ExportStatus.COMPLETE or not Path(file.path).exists():
        raise Http404("No such file.")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="fhir:export_file",
        object_id=file.pk,
        detail={"job": job.pk, "type": file.resource_type, "count": file.count},
    )
    return file


def exports_prune(*, now: datetime) -> int:
    """Delete the files of expired jobs; the jobs stay (cancelled) as the record of the export."""
    expired = list(
        ExportJob.objects.filter(status=ExportStatus.COMPLETE, expires_at__lte=now).values_list(
            "pk", "clinic_id"
        )
    )
    for pk, clinic_id in expired:
        shutil.rmtree(export_dir() / str(clinic_id) / str(pk), ignore_errors=True)
    if expired:
        ExportJob.objects.filter(pk__in=[pk for pk, _ in expired]).update(
            status=ExportStatus.CANCELLED, error="expired"
        )
    return len(expired)


def clinic_context(clinic: Clinic) -> BuildContext:
    """A build context without a request (the worker, the command line)."""
    return BuildContext(clinic=clinic)
