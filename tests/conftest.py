"""Personas and clients shared by the whole suite.

- `therapist` (Theo) is linked to `patient` (Alice).
- `other_patient` (Bob) is linked to nobody; `other_therapist` (Olivia) to nobody.
Each persona has a real API token, so requests go through token authentication.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import CareLink, Role, User

PASSWORD = "correct-horse-battery-staple"

# CI (.ci/run) draws the property tests' examples from a fixed seed: a gate that must pass in
# one run cannot depend on what chance draws. Local runs draw new examples every time,
# which is how they find what the fixed ones miss.
hypothesis_settings.register_profile("ci", derandomize=True)


@pytest.fixture(autouse=True)
def _fast_hashing_and_fresh_throttles(settings):
    # Argon2 is deliberately slow; the suite checks it once in test_api_accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # throttle counters live in the cache
    yield
    cache.clear()


def make_user(email: str, *, role: str = Role.PATIENT, name: str = "", tz: str = "UTC") -> User:
    return User.objects.create_user(
        email=email,
        password=PASSWORD,
        role=role,
        name=name or email.split("@")[0].title(),
        timezone=tz,
    )


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def therapist(db) -> User:
    return make_user("theo@clinic.test", role=Role.THERAPIST, name="Theo Therapist")


@pytest.fixture
def other_therapist(db) -> User:
    return make_user("olivia@clinic.test", role=Role.THERAPIST, name="Olivia Other")


@pytest.fixture
def patient(db, therapist) -> User:
    alice = make_user("alice@example.test", name="Alice Patient")
    CareLink.objects.create(therapist=therapist, patient=alice)
    return alice


@pytest.fixture
def other_patient(db) -> User:
    return make_user("bob@example.test", name="Bob Stranger")


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def patient_client(patient) -> APIClient:
    return client_for(patient)


@pytest.fixture
def therapist_client(therapist) -> APIClient:
    return client_for(therapist)


@pytest.fixture
def today(patient) -> dt.date:
    return patient.local_today()
