from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    """Chairs, treatment courses, appointments, the calendar and the iCalendar feed."""

    name = "ketacare.scheduling"
    label = "scheduling"
    default_auto_field = "django.db.models.BigAutoField"
