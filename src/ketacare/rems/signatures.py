"""Signed monitoring forms on the shared chain: what was signed is appended as a
`MonitoringFormSignature` (HMAC-chained per clinic, signed checkpoints outside the database,
as the ledger and the audit trail are), and `verify` finds a signature altered, removed or
inserted, or a signed form whose answers were edited after it was signed."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ketacare.audit.chained import chain_append, chains_verify
from ketacare.rems.models import MonitoringForm, MonitoringFormSignature


def content_hash(answers: dict[str, Any], version: str) -> str:
    """SHA-256 of the signed answers, so a later change is evident."""
    body = json.dumps({"version": version, "answers": answers}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def chain_key_for(clinic_id: int) -> str:
    """One chain per clinic, so clinics never contend for one lock."""
    return f"clinic:{clinic_id}"


def signature_append(form: MonitoringForm) -> MonitoringFormSignature:
    """Append what was just signed to the clinic's chain (in the signing transaction)."""
    if form.signed_at is None or form.signed_by_id is None:
        raise ValueError("Only a signed form is chained.")
    # The answers as the database gives them back (JSON), so the link recomputes alike.
    answers = json.loads(json.dumps(form.answers, sort_keys=True, default=str))
    return chain_append(
        MonitoringFormSignature,
        chain_key=chain_key_for(form.clinic_id),
        values={
            "clinic_id": form.clinic_id,
            "form_id": form.pk,
            "session_id": form.session_id,
            "patient_id": form.patient_id,
            "definition_version": form.definition_version,
            "answers": answers,
            "content_hash": form.content_hash,
            "signed_at": form.signed_at,
            "signed_by_id": form.signed_by_id,
        },
    )


@dataclass(frozen=True)
class FormsVerifyResult:
    """What the check of signed monitoring forms covered, and each problem found."""

    chains: int
    signatures: int
    signed_forms: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        """No signature chain broken and no signed form changed since it was signed."""
        return not self.problems


def _form_problem(form: MonitoringForm, signature: MonitoringFormSignature | None) -> str | None:
    where = f"form {form.pk} (session {form.session_id})"
    if signature is None:
        return f"{where}: signed, but its signature is not on the chain"
    if (
        form.answers != signature.answers
        or form.definition_version != signature.definition_version
        or content_hash(form.answers, form.definition_version) != signature.content_hash
    ):
        return f"{where}: its answers differ from what was signed (signature seq {signature.seq})"
    if form.content_hash != signature.content_hash or form.signed_by_id != signature.signed_by_id:
        return f"{where}: its signature details differ from the chain's (seq {signature.seq})"
    return None


def verify() -> FormsVerifyResult:
    """Recompute the signature chains against the signed checkpoints, then hold every signed
    form to its chained signature."""
    report = chains_verify()
    prefix = f"{MonitoringFormSignature.CHAIN_KIND}/"
    problems = [
        p.describe()
        for p in report.problems
        if p.chain_key.startswith(prefix) or p.chain_key == "checkpoints"
    ]
    signatures = {s.form_id: s for s in MonitoringFormSignature.objects.iterator(chunk_size=2000)}
    signed = 0
    for form in MonitoringForm.objects.filter(signed_at__isnull=False).iterator(chunk_size=2000):
        signed += 1
        problem = _form_problem(form, signatures.get(form.pk))
        if problem:
            problems.append(problem)
    return FormsVerifyResult(
        chains=len({s.chain_key for s in signatures.values()}),
        signatures=len(signatures),
        signed_forms=signed,
        problems=problems,
    )
