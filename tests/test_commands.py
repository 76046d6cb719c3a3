"""Management commands of API.md, and the catalogue the data migration loads."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import CareLink, User
from recovery import engine
from recovery.engine.inputs import ACTIVITY_CATALOGUE, Category, Phase
from recovery.models import Activity, Escalation, PlanSnapshot
from recovery.models import Category as CategoryChoices
from recovery.models import Phase as PhaseChoices

pytestmark = pytest.mark.django_db


def test_create_user_makes_a_therapist_who_can_sign_in():
    out = io.StringIO()
    call_command(
        "create_user",
        "--role=therapist",
        "--email=Theo@Clinic.test",
        "--password=a-long-enough-password",
        "--name=Theo",
        "--timezone=Europe/Berlin",
        stdout=out,
    )
    user = User.objects.get(email="theo@clinic.test")
    assert (user.role, user.name, user.timezone) == ("therapist", "Theo", "Europe/Berlin")
    assert user.check_password("a-long-enough-password")
    assert "Created therapist theo@clinic.test" in out.getvalue()


def test_create_user_without_a_name_takes_the_address_before_the_at():
    call_command(
        "create_user", "--role=patient", "--email=bob@example.test",
        "--password=a-long-enough-password", stdout=io.StringIO(),
    )  # fmt: skip
    assert User.objects.get(email="bob@example.test").name == "bob"


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--timezone=Mars/Olympus"], "timezone"),
        (["--password=123"], "password"),
        (["--email=not-an-email"], "email"),
        (["--name=Bob\n"], "name"),  # a trailing line break is a second line
        (["--email="], "email"),
    ],
)
def test_create_user_refuses_bad_values_naming_them(arguments, named):
    base = {
        "--role": "patient",
        "--email": "p@example.test",
        "--password": "a-long-enough-password",
    }
    for argument in arguments:
        key, value = argument.split("=", 1)
        base[key] = value
    with pytest.raises(CommandError, match=named):
        call_command("create_user", *[f"{key}={value}" for key, value in base.items()])
    assert not User.objects.exists()


def test_the_catalogue_holds_every_guideline_activity_with_its_category():
    stored = dict(Activity.objects.values_list("slug", "category"))
    assert stored == ACTIVITY_CATALOGUE
    assert len(stored) == 40  # the ten categories of GUIDELINES.md hold 40 slugs


def test_database_enums_match_the_engines():
    assert set(CategoryChoices.values) == {category.value for category in Category}
    assert set(PhaseChoices.values) == {phase.value for phase in Phase}
    assert engine.LEVEL_ORDER[0] == "none"


def test_seed_demo_builds_a_clinic_with_patients_in_every_phase():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)  # a second run changes nothing

    therapist = User.objects.get(email="therapist@demo.rebound.test")
    patients = User.objects.filter(therapist_links__therapist=therapist)
    assert CareLink.objects.filter(therapist=therapist).count() == patients.count() == 5
    phases = {
        snapshot.patient.name: (snapshot.phase, snapshot.stage)
        for snapshot in PlanSnapshot.objects.filter(patient__in=patients).select_related("patient")
    }
    assert phases == {
        "Ava Active": ("active", None),
        "Rory Rest": ("rest", None),
        "Rita Return": ("return", 2),
        "Max Review": ("medical_review", None),
        "Pia Persistent": ("active", None),
    }
    assert Escalation.objects.filter(patient__name="Pia Persistent", rule="PERSIST_3D").exists()
    assert "The demo clinic exists already." in out.getvalue()
    assert "rebound-demo-2026" in out.getvalue()
