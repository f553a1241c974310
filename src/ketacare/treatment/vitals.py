"""Plausibility bounds of chair-side readings, shared by the session's forms and API schemas.

Input plausibility only (typing errors such as 1200 for 120), not clinical limits: the core
judges the values. A value outside these is a typo, refused before it reaches the core.
"""

TYPO_BOUNDS = {
    "systolic": (40, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
}
