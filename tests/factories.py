"""factory_boy factories for the Django models."""

from datetime import date

import factory

from ketacare.accounts.models import Clinic, Membership, User
from ketacare.accounts.roles import Role
from ketacare.patients.models import Patient, PatientSexChoices

TEST_PASSWORD = "correct-horse-battery-staple"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"clinic-{n}")
    name = factory.LazyAttribute(lambda o: f"Clinic {o.slug}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Role.NURSE


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    mrn = factory.Sequence(lambda n: f"T{n:06d}")
    given_name = factory.Sequence(lambda n: f"Given{n}")
    family_name = factory.Sequence(lambda n: f"Family{n}")
    date_of_birth = date(1980, 5, 17)
    sex = PatientSexChoices.FEMALE
    email = factory.LazyAttribute(lambda o: f"{o.mrn.lower()}@patients.example")


def member(clinic: Clinic, role: Role, username: str | None = None) -> User:
    """A user with one membership in `clinic` as `role`."""
    user = UserFactory(username=username) if username else UserFactory()
    MembershipFactory(user=user, clinic=clinic, role=role)
    return user
