"""Writes of the recovery app, one module per seam, each write one transaction, audited."""

from ketacare.recovery.services.part2 import (
    part2_consent_record,
    part2_consent_revoke,
    part2_disclose,
)
from ketacare.recovery.services.plan import plan_review_record, plan_version_write
from ketacare.recovery.services.programme import (
    programme_start,
    use_day_mark,
    use_day_mark_by_patient,
    withdrawal_check_record,
)
from ketacare.recovery.services.review import (
    drug_screen_record,
    misuse_decision_record,
    misuse_review_refresh,
    session_request_record,
)

__all__ = [
    "drug_screen_record",
    "misuse_decision_record",
    "misuse_review_refresh",
    "part2_consent_record",
    "part2_consent_revoke",
    "part2_disclose",
    "plan_review_record",
    "plan_version_write",
    "programme_start",
    "session_request_record",
    "use_day_mark",
    "use_day_mark_by_patient",
    "withdrawal_check_record",
]
