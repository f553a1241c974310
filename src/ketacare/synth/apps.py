from django.apps import AppConfig


class SynthConfig(AppConfig):
    """The synthetic-network generator: no models of its own, only the command."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ketacare.synth"
    label = "synth"
    verbose_name = "Synthetic networks"
