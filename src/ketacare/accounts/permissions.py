"""The one permission table: which role may do what.

Views and API endpoints name a `Permission`; `Actor.require` checks it against this
table and nothing else. `docs/permissions.md` is rendered from it
(`ketacare permissions-doc`), and a test keeps the two in step.
"""

from enum import StrEnum

from ketacare.accounts.roles import Role


class Permission(StrEnum):
    """Something a member of a clinic may be allowed to do."""

    PATIENT_LIST = "patient.list"
    PATIENT_VIEW = "patient.view"
    PATIENT_CREATE = "patient.create"
    PATIENT_EDIT = "patient.edit"
    PATIENT_MERGE = "patient.merge"
    CHART_VIEW = "chart.view"
    CHART_EDIT = "chart.edit"
    SCREENING_RUN = "screening.run"
    SCREENING_SIGN = "screening.sign"
    CONSENT_DOCUMENT_MANAGE = "consent_document.manage"
    CONSENT_RECORD = "consent.record"
    CONSENT_VIEW = "consent.view"
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_MANAGE = "schedule.manage"
    COURSE_MANAGE = "course.manage"
    SESSION_VIEW = "session.view"
    SESSION_RUN = "session.run"
    DOSE_ORDER = "dose.order"
    DOSE_VERIFY = "dose.verify"
    CLINICAL_DECISION = "clinical.decision"
    QUESTIONNAIRE_SEND = "questionnaire.send"
    QUESTIONNAIRE_VIEW = "questionnaire.view"
    ALERT_VIEW = "alert.view"
    ALERT_MANAGE = "alert.manage"
    INTEGRATION_NOTE_VIEW = "integration_note.view"
    INTEGRATION_NOTE_WRITE = "integration_note.write"
    JOURNAL_VIEW = "journal.view"
    OUTCOMES_VIEW = "outcomes.view"
    AUDIT_VIEW = "audit.view"
    LEDGER_VIEW = "ledger.view"
    LEDGER_MANAGE = "ledger.manage"
    LEDGER_RECEIVE = "ledger.receive"
    LEDGER_DRAW = "ledger.draw"
    LEDGER_WITNESS = "ledger.witness"
    LEDGER_COUNT = "ledger.count"
    LEDGER_ADJUST = "ledger.adjust"
    LEDGER_DESTROY = "ledger.destroy"
    LEDGER_REPORT = "ledger.report"
    REMS_VIEW = "rems.view"
    REMS_MANAGE = "rems.manage"
    REMS_ENROL = "rems.enrol"
    REMS_FORM_SIGN = "rems.form_sign"
    REMS_FORM_SUBMIT = "rems.form_submit"
    CLINIC_MANAGE = "clinic.manage"
    FHIR_BULK_EXPORT = "fhir.bulk_export"
    RECORD_EXPORT = "record.export"
    RECOVERY_VIEW = "recovery.view"
    RECOVERY_DECIDE = "recovery.decide"
    RECOVERY_RECORD = "recovery.record"
    RECOVERY_PLAN_WRITE = "recovery.plan_write"
    RECOVERY_PLAN_REVIEW = "recovery.plan_review"
    PART2_VIEW = "part2.view"
    PART2_CONSENT = "part2.consent"
    PART2_DISCLOSE = "part2.disclose"
    ATHOME_VIEW = "athome.view"
    ATHOME_ENROL = "athome.enrol"
    ATHOME_PRESCRIBE = "athome.prescribe"
    ATHOME_SUPPLY = "athome.supply"
    ATHOME_REVIEW = "athome.review"
    ATHOME_RULES_VIEW = "athome.rules_view"
    ATHOME_RULES_MANAGE = "athome.rules_manage"


ALL = frozenset(Role)
CLINICIANS = frozenset({Role.PRESCRIBER, Role.NURSE})
CARE_TEAM = frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST})

# Why front desk sees demographics but not the chart: it books and checks patients in,
# and the minimum-necessary rule keeps clinical detail (diagnoses, vitals, scores) from it.
PERMISSION_TABLE: dict[Permission, frozenset[Role]] = {
    Permission.PATIENT_LIST: ALL,
    Permission.PATIENT_VIEW: ALL,
    Permission.PATIENT_CREATE: frozenset({Role.ADMIN, Role.FRONT_DESK, *CLINICIANS}),
    Permission.PATIENT_EDIT: frozenset({Role.ADMIN, Role.FRONT_DESK, *CLINICIANS}),
    # Merging moves one chart's records onto another: the clinic's administrator decides.
    Permission.PATIENT_MERGE: frozenset({Role.ADMIN}),
    Permission.CHART_VIEW: CARE_TEAM,
    Permission.CHART_EDIT: CLINICIANS,
    Permission.SCREENING_RUN: CLINICIANS,
    Permission.SCREENING_SIGN: frozenset({Role.PRESCRIBER}),
    Permission.CONSENT_DOCUMENT_MANAGE: frozenset({Role.ADMIN}),
    Permission.CONSENT_RECORD: frozenset({Role.FRONT_DESK, *CLINICIANS}),
    # Consent texts and a patient's signed copies are not clinical detail; everyone may read them.
    Permission.CONSENT_VIEW: ALL,
    Permission.SCHEDULE_VIEW: ALL,
    Permission.SCHEDULE_MANAGE: frozenset({Role.ADMIN, Role.FRONT_DESK, *CLINICIANS}),
    Permission.COURSE_MANAGE: frozenset({Role.PRESCRIBER}),
    Permission.SESSION_VIEW: CARE_TEAM,
    Permission.SESSION_RUN: CLINICIANS,
    Permission.DOSE_ORDER: frozenset({Role.PRESCRIBER}),
    Permission.DOSE_VERIFY: CLINICIANS,
    Permission.CLINICAL_DECISION: frozenset({Role.PRESCRIBER}),
    Permission.QUESTIONNAIRE_SEND: frozenset({Role.FRONT_DESK, *CARE_TEAM}),
    Permission.QUESTIONNAIRE_VIEW: CARE_TEAM,
    Permission.ALERT_VIEW: CARE_TEAM,
    Permission.ALERT_MANAGE: CARE_TEAM,
    Permission.INTEGRATION_NOTE_VIEW: frozenset({Role.THERAPIST, Role.PRESCRIBER}),
    Permission.INTEGRATION_NOTE_WRITE: frozenset({Role.THERAPIST}),
    # The patient's portal journal is written for the therapist doing integration work;
    # the prescriber reads it too (it may hold warning signs). Not nurses or front desk.
    Permission.JOURNAL_VIEW: frozenset({Role.THERAPIST, Role.PRESCRIBER}),
    Permission.OUTCOMES_VIEW: frozenset({Role.ADMIN, *CARE_TEAM}),
    Permission.AUDIT_VIEW: frozenset({Role.ADMIN}),
    # Controlled substances: clinicians handle stock; the clinic admin (the registrant's
    # manager) sets up, receives, counts and reports but never draws a dose. Waste and
    # destruction are witnessed by licensed clinicians. Reports name patients and addresses.
    Permission.LEDGER_VIEW: frozenset({Role.ADMIN, *CLINICIANS}),
    Permission.LEDGER_MANAGE: frozenset({Role.ADMIN}),
    Permission.LEDGER_RECEIVE: frozenset({Role.ADMIN, *CLINICIANS}),
    Permission.LEDGER_DRAW: CLINICIANS,
    Permission.LEDGER_WITNESS: CLINICIANS,
    Permission.LEDGER_COUNT: frozenset({Role.ADMIN, *CLINICIANS}),
    Permission.LEDGER_ADJUST: frozenset({Role.ADMIN, Role.PRESCRIBER}),
    Permission.LEDGER_DESTROY: frozenset({Role.ADMIN, Role.PRESCRIBER}),
    Permission.LEDGER_REPORT: frozenset({Role.ADMIN, Role.PRESCRIBER}),
    # SPRAVATO REMS: the admin keeps the setting's certification; clinicians enrol patients
    # and sign monitoring forms; the admin may also submit forms already signed.
    Permission.REMS_VIEW: frozenset({Role.ADMIN, *CLINICIANS}),
    Permission.REMS_MANAGE: frozenset({Role.ADMIN}),
    Permission.REMS_ENROL: CLINICIANS,
    Permission.REMS_FORM_SIGN: CLINICIANS,
    Permission.REMS_FORM_SUBMIT: frozenset({Role.ADMIN, *CLINICIANS}),
    Permission.CLINIC_MANAGE: frozenset({Role.ADMIN}),
    # A whole clinic's records leave in one file: the clinic's administrator starts that.
    Permission.FHIR_BULK_EXPORT: frozenset({Role.ADMIN}),
    # Giving a patient a link to download their own record (FHIR JSON and a PDF summary).
    Permission.RECORD_EXPORT: frozenset({Role.PRESCRIBER, Role.NURSE, Role.ADMIN}),
    # Misuse and dependence: the care team sees the signals and the safety-review worklist;
    # only a prescriber decides (continue, reduce, pause, taper, stop, refer). Clinicians record
    # drug screens and session requests; therapists and prescribers review relapse plans.
    Permission.RECOVERY_VIEW: CARE_TEAM,
    Permission.RECOVERY_DECIDE: frozenset({Role.PRESCRIBER}),
    Permission.RECOVERY_RECORD: CARE_TEAM,
    Permission.RECOVERY_PLAN_WRITE: CARE_TEAM,
    Permission.RECOVERY_PLAN_REVIEW: frozenset({Role.THERAPIST, Role.PRESCRIBER}),
    # 42 CFR Part 2: records of a substance-use-disorder programme are seen only by the staff
    # treating the patient in it (not the admin or front desk); the prescriber or therapist
    # records the patient's consent, and only a prescriber discloses, under a consent on file.
    Permission.PART2_VIEW: CARE_TEAM,
    Permission.PART2_CONSENT: frozenset({Role.PRESCRIBER, Role.THERAPIST}),
    Permission.PART2_DISCLOSE: frozenset({Role.PRESCRIBER}),
    # At-home programme: the care team follows it on the board; clinicians enrol, record supply
    # and follow-up reviews; only a prescriber signs prescriptions, steps doses, releases refills.
    Permission.ATHOME_VIEW: CARE_TEAM,
    Permission.ATHOME_ENROL: CLINICIANS,
    Permission.ATHOME_PRESCRIBE: frozenset({Role.PRESCRIBER}),
    Permission.ATHOME_SUPPLY: CLINICIANS,
    Permission.ATHOME_REVIEW: CLINICIANS,
    # The clinic's telemedicine-prescribing rules (no patient data): the admin sets what applies
    # after a period ends, as the registrant's manager; prescribers and nurses read it.
    Permission.ATHOME_RULES_VIEW: frozenset({Role.ADMIN, *CLINICIANS}),
    Permission.ATHOME_RULES_MANAGE: frozenset({Role.ADMIN}),
}


def role_may(role: Role | str, permission: Permission) -> bool:
    """Whether the permission table lets this role do this."""
    return Role(role) in PERMISSION_TABLE[permission]


def render_permission_table() -> str:
    """The permission table as Markdown, for docs/permissions.md."""
    roles = list(Role)
    lines = [
        "# Permissions",
        "",
        "Generated from `ketacare.accounts.permissions.PERMISSION_TABLE` by",
        "`ketacare permissions-doc`; do not edit by hand.",
        "",
        "Every page and API endpoint names one permission and checks it in one place",
        "(`Actor.require`). A record of another clinic answers 404 whatever the role.",
        "",
        "| permission | " + " | ".join(r.label for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for permission in Permission:
        allowed = PERMISSION_TABLE[permission]
        cells = ["yes" if role in allowed else "-" for role in roles]
        lines.append(f"| `{permission.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
