"""KetaCare's clinical core: scales, outcomes, dosing, eligibility, protocols and monitoring.

Pure Python (standard library only, no Django, no I/O beyond reading its own packaged data).
Every clinical number lives in `data/` beside its source; see docs/clinical-sources.md.
"""

from ketacare.clinical.errors import (
    ClinicalError,
    DataError,
    HardStop,
    InvalidInput,
    ProtocolViolation,
)

__all__ = ["ClinicalError", "DataError", "HardStop", "InvalidInput", "ProtocolViolation"]
