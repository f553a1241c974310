"""Every table of patient data carries `clinic_id`; what would block distributing by it today.

docs/scaling.md plans a distributed PostgreSQL (Citus) with `clinic_id` as the distribution
column. That needs `clinic_id` in every table of patient data (checked here for every model,
so a new table without it fails), and it needs `clinic_id` in every unique constraint and
primary key of a distributed table; the constraints that lack it today are computed here and
must be the ones docs/scaling.md lists.
"""

from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

DOC = Path(__file__).resolve().parent.parent / "docs" / "scaling.md"
# Tables that are the network's, not one clinic's (each with the reason), and stay whole on
# every node (Citus reference tables) or belong to the coordinator.
NETWORK_TABLES = {
    "accounts_clinic": "the tenants themselves",
    "accounts_user": "a person may work in several clinics; memberships carry the clinic",
    "audit_chainhead": "one row per chain; the chain key names its clinic ('clinic:<id>')",
    "outcomes_portalratecount": "rate-limit counters per address or link: no patient data",
    "fhir_tokenscope": "an API token's scopes; the token row carries the clinic; no patient data",
    "accounts_signingpin": "a person's signing PIN, like the user row: no patient data",
}


def _ketacare_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m.__module__.startswith("ketacare.") and not m._meta.proxy and m._meta.managed
    ]


def _columns(model: type[models.Model], names: list[str]) -> list[str]:
    return [model._meta.get_field(name).attname for name in names]


def distribution_blockers() -> list[str]:
    """`table: constraint (columns)` for each unique constraint of a clinic's table that does
    not include clinic_id (Citus enforces uniqueness only when it includes the column)."""
    found = []
    for model in _ketacare_models():
        table = model._meta.db_table
        if table in NETWORK_TABLES:
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                columns = _columns(model, list(constraint.fields))
                if "clinic_id" not in columns:
                    found.append(f"{table}: {constraint.name} ({', '.join(columns)})")
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key and field.attname != "clinic_id":
                found.append(f"{table}: unique {field.attname}")
    return sorted(found)


def test_every_table_of_patient_data_carries_clinic_id():
    missing = [
        m._meta.db_table
        for m in _ketacare_models()
        if m._meta.db_table not in NETWORK_TABLES
        and "clinic_id" not in {f.attname for f in m._meta.concrete_fields}
    ]
    assert not missing, f"add clinic_id to {missing} (or argue it into NETWORK_TABLES)"


def test_every_table_with_a_patient_is_a_clinics_table():
    for model in _ketacare_models():
        attnames = {f.attname for f in model._meta.concrete_fields}
        if "patient_id" in attnames:
            assert "clinic_id" in attnames, model._meta.db_table


@pytest.mark.parametrize("table", sorted(NETWORK_TABLES))
def test_the_network_tables_are_named_in_the_plan(table):
    assert f"`{table}`" in DOC.read_text()


def test_the_plan_lists_exactly_the_constraints_that_block_distribution_today():
    text = DOC.read_text()
    listed = sorted(
        line.removeprefix("- `").split("`")[0]
        for line in text.split("<!-- blockers:start -->")[1]
        .split("<!-- blockers:end -->")[0]
        .splitlines()
        if line.startswith("- `")
    )
    assert listed == distribution_blockers()
