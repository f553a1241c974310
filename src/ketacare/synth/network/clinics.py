"""A synthetic clinic: its staff, chairs and consent texts, and its chair time as it fills."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from ketacare.accounts.models import Clinic, Membership, User
from ketacare.accounts.roles import Role
from ketacare.consent.models import ConsentDocument, ConsentDocumentVersion
from ketacare.scheduling.models import Chair, ClinicSchedule
from ketacare.synth.network.spec import (
    CLOSES,
    OPENS,
    SLOT_MINUTES,
    STAFF,
    STAFF_FRONT_DESK,
    TIME_ZONES,
    NetworkSpec,
)


@dataclass
class SynthClinic:
    clinic: Clinic
    tz: ZoneInfo
    staff: dict[Role, list[User]]
    chairs: list[int]
    versions: dict[str, tuple[int, str]]  # route -> (version id, body hash)
    free: dict[date, list[int]] = field(default_factory=dict)
    arrivals: list[tuple[datetime, int]] = field(default_factory=list)
    number: int = 1

    def book(self, day: date, minutes: int) -> tuple[date, int, int]:
        """The first chair free for `minutes` on `day` or the next open day: (day, chair, start)."""
        needed = -(-minutes // SLOT_MINUTES) * SLOT_MINUTES
        while True:
            if day.weekday() < 5:
                chairs = self.free.setdefault(day, [OPENS] * len(self.chairs))
                best = min(range(len(chairs)), key=chairs.__getitem__)
                if chairs[best] + needed <= CLOSES:
                    start = chairs[best]
                    chairs[best] += needed
                    return day, self.chairs[best], start
            day += timedelta(days=1)

    def at(self, day: date, minute: int) -> datetime:
        local = datetime.combine(day, clock_time(minute // 60, minute % 60), tzinfo=self.tz)
        return local.astimezone(UTC)


def clinic_setup(spec: NetworkSpec, index: int, size: int, password: str) -> SynthClinic:
    slug = f"{spec.slug_prefix}-{index + 1}"
    tz_name = TIME_ZONES[index % len(TIME_ZONES)]
    clinic = Clinic.objects.create(
        slug=slug, name=f"Synthetic Clinic {index + 1}", time_zone=tz_name
    )
    ClinicSchedule.objects.create(clinic=clinic)
    staff: dict[Role, list[User]] = {}
    for role, count in (*STAFF, (Role.FRONT_DESK, STAFF_FRONT_DESK)):
        users = [
            User(
                username=f"{slug}.{role.value.replace('_', '')}{n}",
                password=password,
                first_name=role.label.split()[-1],
                last_name=str(n),
                email=f"{role.value}{n}@{slug}.example",
            )
            for n in range(1, count + 1)
        ]
        staff[role] = User.objects.bulk_create(users)
        Membership.objects.bulk_create(
            [Membership(user=u, clinic=clinic, role=role) for u in staff[role]]
        )
    # Enough chairs for the busiest day: about seven sessions per patient over the history.
    per_day = size * 8 / (spec.history_days * 5 / 7)
    chair_count = max(4, int(per_day / 4) + 2)
    chairs = Chair.objects.bulk_create(
        [
            Chair(clinic=clinic, room=f"Room {n // 6 + 1}", label=f"Chair {n % 6 + 1}")
            for n in range(chair_count)
        ]
    )
    admin = staff[Role.ADMIN][0]
    versions: dict[str, tuple[int, str]] = {}
    published = datetime.combine(
        spec.today - timedelta(days=spec.history_days + 30), clock_time(12), tzinfo=UTC
    )
    for route in ("iv", "esketamine"):
        document = ConsentDocument.objects.create(
            clinic=clinic, route=route, title=f"{route.upper()} treatment consent"
        )
        body = f"Synthetic consent text for {route} treatment at {clinic.name}."
        digest = hashlib.sha256(body.encode()).hexdigest()
        version = ConsentDocumentVersion.objects.create(
            clinic=clinic,
            document=document,
            number=1,
            title=document.title,
            body=body,
            body_sha256=digest,
            published_at=published,
            published_by=admin,
        )
        versions[route] = (version.pk, digest)
    return SynthClinic(
        clinic=clinic,
        tz=ZoneInfo(tz_name),
        staff=staff,
        chairs=[c.pk for c in chairs],
        versions=versions,
        number=index + 1,
    )


def next_open_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
