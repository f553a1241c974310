"""Factories for consent documents, versions and signatures."""

import hashlib

import factory
from django.utils import timezone

from ketacare.consent.models import ConsentDocument, ConsentDocumentVersion, ConsentSignature

BODY = "You agree to this treatment. You may stop at any time.\n"


class ConsentDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentDocument
        django_get_or_create = ("clinic", "route")

    clinic = factory.SubFactory("tests.factories.ClinicFactory")
    route = "iv"
    title = "Consent to IV ketamine"


class ConsentVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentDocumentVersion

    document = factory.SubFactory(ConsentDocumentFactory)
    clinic = factory.LazyAttribute(lambda o: o.document.clinic)
    number = factory.Sequence(lambda n: n + 1)
    body = BODY
    body_sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.body.encode()).hexdigest())
    published_at = factory.LazyFunction(timezone.now)
    published_by = factory.SubFactory("tests.factories.UserFactory")


class ConsentSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentSignature

    patient = factory.SubFactory("tests.factories.PatientFactory")
    clinic = factory.LazyAttribute(lambda o: o.patient.clinic)
    document_version = factory.SubFactory(
        ConsentVersionFactory, document__clinic=factory.SelfAttribute("...clinic")
    )
    signed_name = factory.LazyAttribute(lambda o: o.patient.display_name)
    signed_at = factory.LazyFunction(timezone.now)
    body_sha256 = factory.LazyAttribute(lambda o: o.document_version.body_sha256)
    witnessed_by = factory.SubFactory("tests.factories.UserFactory")
    recorded_by = factory.LazyAttribute(lambda o: o.witnessed_by)
