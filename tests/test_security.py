"""Guessing, caching and leftovers: what a health-data service must not allow."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.api.views import TokenView
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db

API = "/api/v1"
WRONG = {"password": "not-the-password"}


def test_a_forged_forwarded_for_header_does_not_reset_the_sign_in_limit(patient, monkeypatch):
    # The "auth" scope's limit, whether or not this run turned the API's rate limits off.
    monkeypatch.setattr(TokenView, "throttle_classes", [ScopedRateThrottle])
    cache.clear()
    client = APIClient()
    statuses = [
        client.post(
            f"{API}/auth/token/", {"email": patient.email, **WRONG},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{guess}",
        ).status_code
        for guess in range(11)
    ]  # fmt: skip
    assert statuses == [401] * 10 + [429]


@pytest.mark.parametrize("page", ["/accounts/login/", "/admin/login/"])
def test_signing_in_on_a_web_page_is_rate_limited_like_the_api(settings, client, patient, page):
    settings.THROTTLE_ENABLED = True
    cache.clear()
    guess = {"username": patient.email, "password": "not-the-password"}
    statuses = [client.post(page, guess).status_code for _ in range(10)]
    assert statuses == [200] * 10  # the form again, "please enter a correct email"
    right = client.post(page, {**guess, "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_web_and_api_sign_in_attempts_add_up(settings, client, patient, monkeypatch):
    settings.THROTTLE_ENABLED = True
    monkeypatch.setattr(TokenView, "throttle_classes", [ScopedRateThrottle])
    cache.clear()
    for _ in range(10):
        client.post("/accounts/login/", {"username": patient.email, "password": "wrong"})
    response = APIClient().post(f"{API}/auth/token/", {"email": patient.email, **WRONG})
    assert response.status_code == 429


def test_a_new_password_ends_the_users_api_tokens(patient, anon_client):
    token = anon_client.post(
        f"{API}/auth/token/", {"email": patient.email, "password": PASSWORD}
    ).json()["token"]
    patient.set_password("a-brand-new-passphrase-77")
    patient.save()

    stale = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert stale.get(f"{API}/me/").status_code == 401
    assert not Token.objects.filter(user=patient).exists()


def test_saving_a_user_without_a_new_password_keeps_their_token(patient):
    token = Token.objects.create(user=patient)
    patient.name = "Alice P."
    patient.save()
    assert Token.objects.filter(key=token.key).exists()


def test_a_password_of_only_spaces_is_refused(anon_client):
    body = {"email": "spaces@example.test", "password": " " * 12, "name": "S", "timezone": "UTC"}
    response = anon_client.post(f"{API}/auth/register/", body)
    assert response.status_code == 400
    assert "password" in response.json()


def test_api_answers_tell_caches_not_to_store_them(patient_client):
    response = patient_client.get(f"{API}/pain-logs/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in APIClient().get(f"{API}/me/")["Cache-Control"]  # a 401 too
    for path in ("/pain-logs/999999/", "/no-such-thing/"):  # and a 404
        response = patient_client.get(f"{API}{path}")
        assert (response.status_code, "no-store" in response["Cache-Control"]) == (404, True)


@pytest.mark.parametrize("name", ["Evil\r\nBcc: victim@example.test", "Tab\there", "Nul\x00"])
def test_names_are_one_line(patient, anon_client, name):
    me = client_for(patient).patch(f"{API}/me/", {"name": name})
    assert (me.status_code, list(me.json())) == (400, ["name"])
    body = {"email": "new@example.test", "password": PASSWORD, "name": name, "timezone": "UTC"}
    registered = anon_client.post(f"{API}/auth/register/", body)
    assert (registered.status_code, list(registered.json())) == (400, ["name"])
    cleared = client_for(patient).post(
        f"{API}/clearances/",
        {"cleared_on": patient.local_today().isoformat(), "clinician_name": name},
    )
    assert cleared.status_code == 400
    assert "clinician_name" in cleared.json()
    patient.refresh_from_db()
    assert patient.name == "Alice Patient"


def test_staff_cannot_make_an_api_token_for_someone_in_the_admin(admin_client):
    assert admin_client.get("/admin/authtoken/tokenproxy/add/").status_code == 404


# --- Sign-in limits and the characters a name may hold ------------------------------------


def test_loading_the_sign_in_page_is_not_counted_as_a_guess(settings, client, patient):
    settings.THROTTLE_ENABLED = True
    cache.clear()
    for _ in range(12):
        assert client.get("/accounts/login/").status_code == 200
    right = client.post("/accounts/login/", {"username": patient.email, "password": PASSWORD})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(patient.pk)


def test_throttle_enabled_0_turns_the_sign_in_page_limit_off(settings, client, patient):
    settings.THROTTLE_ENABLED = False
    cache.clear()
    guess = {"username": patient.email, "password": "not-the-password"}
    assert [client.post("/accounts/login/", guess).status_code for _ in range(11)] == [200] * 11
    right = client.post("/accounts/login/", {**guess, "password": PASSWORD})
    assert right.status_code == 302


def test_the_sign_in_limit_is_per_minute(patient, monkeypatch):
    monkeypatch.setattr(TokenView, "throttle_classes", [ScopedRateThrottle])
    cache.clear()
    start = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    body = {"email": patient.email, **WRONG}
    with time_machine.travel(start, tick=False):
        statuses = [APIClient().post(f"{API}/auth/token/", body).status_code for _ in range(11)]
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        later = APIClient().post(f"{API}/auth/token/", body).status_code
    assert (statuses[-1], later) == (429, 401)


@pytest.mark.parametrize("name", ["Del\x7fete", "Esc\x1b[31m"])
def test_names_hold_no_delete_or_escape_characters(patient, anon_client, name):
    me = client_for(patient).patch(f"{API}/me/", {"name": name})
    assert (me.status_code, list(me.json())) == (400, ["name"])
    body = {"email": "new@example.test", "password": PASSWORD, "name": name, "timezone": "UTC"}
    assert anon_client.post(f"{API}/auth/register/", body).status_code == 400
