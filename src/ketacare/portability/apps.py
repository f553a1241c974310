from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    """A clinic's whole record as an archive, and its import into an empty KetaCare."""

    name = "ketacare.portability"
    label = "portability"
