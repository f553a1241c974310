"""API schemas of the recovery app."""

from datetime import date, datetime

from ninja import Schema


class EvidenceOut(Schema):
    """One fact behind a signal, with the record it came from."""

    kind: str
    on: date
    detail: str
    ref: str


class SignalOut(Schema):
    """A misuse signal with its evidence and the rule (policy default) that made it."""

    id: str
    label: str
    rule: str
    corroborated_by: list[str]
    citation: str
    evidence: list[EvidenceOut]


class SignalsOut(Schema):
    """A patient's current signals; `not_checked` names sources the record lacks."""

    patient_id: int
    signals: list[SignalOut]
    severe: bool
    severe_reasons: list[str]
    not_checked: list[str]


class UseDayOut(Schema):
    """A calendar mark."""

    day: date
    used: bool
    amount: str


class WithdrawalOut(Schema):
    """A withdrawal checklist."""

    recorded_at: datetime
    total: int
    alert: bool


class Part2RecordsOut(Schema):
    """A patient's Part 2 records, always with the notice against redisclosure."""

    patient_id: int
    redisclosure_notice: str
    redisclosure_notice_full: str
    programme_substance: str | None
    programme_started_on: date | None
    use_days: list[UseDayOut]
    withdrawal_checks: list[WithdrawalOut]
