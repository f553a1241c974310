from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    """Chairs, treatment courses, appointments, the calendar and the iCalendar feed."""

    name = "ketacare.scheduling"
    label = "scheduling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("course_id", "scheduling.Course")
        register_path_object("appointment_id", "scheduling.Appointment")
        register_path_object("chair_id", "scheduling.Chair")

        from ketacare.patients.panels import ChartPanel, chart_panel_register

        chart_panel_register(
            ChartPanel(
                key="courses",
                place="sections",
                order=10,
                template="scheduling/_patient_courses.html",
            )
        )
