"""The roles a member of a clinic can hold."""

from django.db import models


class Role(models.TextChoices):
    """One role per membership; what each may do is in `permissions.PERMISSION_TABLE`."""

    ADMIN = "admin", "Clinic admin"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk"
