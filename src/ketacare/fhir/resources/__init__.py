"""Every FHIR resource type KetaCare serves; importing this package registers them."""

from ketacare.fhir.resources import care, chart, directory, observations  # noqa: F401
