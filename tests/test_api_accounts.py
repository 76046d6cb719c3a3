"""Accounts API: registration, tokens, /me/, invitations and care links."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import IntegrityError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.api.views import InvitationAcceptView, RegisterView, TokenView
from accounts.models import CareLink, CareLinkQuerySet, Invitation, Role, User
from tests.conftest import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"
NEW_PASSWORD = "quiet-Otter-42-lantern"
ME_FIELDS = {"id", "email", "name", "role", "timezone", "reminder_time", "reminders_enabled"}
NOW = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)


def register(client: APIClient, **fields):
    body = {"email": "new@example.test", "password": NEW_PASSWORD, "name": "New Patient"}
    body["timezone"] = "Europe/London"
    return client.post(f"{API}/auth/register/", {**body, **fields}, format="json")


def obtain_token(email: str, password: str = PASSWORD):
    return APIClient().post(
        f"{API}/auth/token/", {"email": email, "password": password}, format="json"
    )


def rows(response) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def invite(therapist: User) -> str:
    response = client_for(therapist).post(f"{API}/invitations/")
    assert response.status_code == 201, response.content
    return response.json()["code"]


def accept(patient: User, code: str):
    return client_for(patient).post(f"{API}/invitations/accept/", {"code": code}, format="json")


# --- Registration and tokens -------------------------------------------------------------


def test_register_creates_a_patient_and_answers_the_me_body(anon_client):
    response = register(anon_client, email="New.Person@Example.TEST")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ME_FIELDS
    user = User.objects.get(id=body["id"])
    assert body == {
        "id": user.id,
        "email": "new.person@example.test",
        "name": "New Patient",
        "role": "patient",
        "timezone": "Europe/London",
        "reminder_time": "20:00",
        "reminders_enabled": True,
    }
    assert user.role == Role.PATIENT
    assert user.check_password(NEW_PASSWORD)


def test_register_hashes_the_password_with_argon2(anon_client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

    response = register(anon_client)

    assert response.status_code == 201, response.content
    user = User.objects.get(email="new@example.test")
    assert user.password.startswith("argon2")
    assert NEW_PASSWORD not in user.password
    assert user.check_password(NEW_PASSWORD)


def test_register_cannot_choose_the_therapist_role(anon_client):
    response = register(anon_client, role="therapist")

    assert response.status_code == 400
    assert "role" in response.json()
    assert not User.objects.filter(email="new@example.test").exists()


def test_registered_user_can_obtain_a_token_and_use_it(anon_client):
    register(anon_client)

    response = obtain_token("NEW@example.test", NEW_PASSWORD)

    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    assert Token.objects.get(key=token).user.email == "new@example.test"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/me/").json()["email"] == "new@example.test"


def test_token_is_stable_until_logout(patient):
    first = obtain_token(patient.email).json()["token"]
    second = obtain_token(patient.email).json()["token"]

    assert first == second


def test_wrong_password_is_refused_with_401(patient):
    # 401 "credentials wrong": a client may retry sign-in. (403 would read "signed in but
    # not allowed", which is not what happened.)
    response = obtain_token(patient.email, "not-the-password")

    assert response.status_code == 401, response.content
    assert "token" not in response.json()
    assert not Token.objects.filter(user=patient).exists()


def test_unknown_email_is_refused_like_a_wrong_password(patient):
    wrong_password = obtain_token(patient.email, "not-the-password")
    unknown_email = obtain_token("nobody@example.test", "not-the-password")

    # Same status and body: the endpoint does not tell which accounts exist.
    assert unknown_email.status_code == wrong_password.status_code
    assert unknown_email.json() == wrong_password.json()


def test_inactive_user_gets_no_token(patient):
    patient.is_active = False
    patient.save()

    response = obtain_token(patient.email)

    assert response.status_code >= 400
    assert not Token.objects.filter(user=patient).exists()


def test_logout_revokes_the_token(patient):
    token = obtain_token(patient.email).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/me/").status_code == 200

    response = client.post(f"{API}/auth/logout/")

    assert response.status_code == 204
    assert client.get(f"{API}/me/").status_code == 401
    assert not Token.objects.filter(key=token).exists()
    fresh = obtain_token(patient.email).json()["token"]
    assert fresh != token


@pytest.mark.parametrize("endpoint", ["token", "register", "invitation accept"])
def test_auth_throttle_answers_429_after_ten_rapid_requests(
    patient, therapist, monkeypatch, endpoint
):
    # The "auth" scope's limit, whether or not this run turned the API's rate limits off
    # (THROTTLE_ENABLED=0 empties the default throttle classes at start-up).
    for view in (RegisterView, TokenView, InvitationAcceptView):
        monkeypatch.setattr(view, "throttle_classes", [ScopedRateThrottle])
    cache.clear()
    code = Invitation.objects.create(therapist=therapist).code
    attempts = {
        "token": lambda i: obtain_token(patient.email),
        "register": lambda i: register(APIClient(), email=f"new{i}@example.test"),
        # Guessing codes: every attempt but the first is a wrong code.
        "invitation accept": lambda i: accept(patient, code if i == 0 else f"WRONG{i:05}"),
    }[endpoint]

    statuses = [attempts(i).status_code for i in range(11)]

    assert 429 not in statuses[:10], statuses
    assert statuses[10] == 429


# --- The signed-in user ------------------------------------------------------------------


def test_me_shows_the_signed_in_user(therapist, therapist_client):
    response = therapist_client.get(f"{API}/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": therapist.id,
        "email": "theo@clinic.test",
        "name": "Theo Therapist",
        "role": "therapist",
        "timezone": "UTC",
        "reminder_time": "20:00",
        "reminders_enabled": True,
    }


def test_me_patch_round_trips_reminder_time_and_settings(patient, patient_client):
    response = patient_client.patch(
        f"{API}/me/",
        {"reminder_time": "07:30", "timezone": "Asia/Tokyo", "reminders_enabled": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["reminder_time"] == "07:30"
    again = patient_client.get(f"{API}/me/").json()
    assert (again["reminder_time"], again["timezone"], again["reminders_enabled"]) == (
        "07:30",
        "Asia/Tokyo",
        False,
    )
    patient.refresh_from_db()
    assert (patient.reminder_time, patient.timezone) == (dt.time(7, 30), "Asia/Tokyo")


# "localtime" is a file in the zone directory (the server's own zone), not an IANA name.
@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "", "utc+2", "Europe/london", "localtime"])
def test_me_patch_rejects_an_unknown_timezone(patient, patient_client, bad):
    response = patient_client.patch(f"{API}/me/", {"timezone": bad}, format="json")

    assert response.status_code == 400
    assert "timezone" in response.json()
    patient.refresh_from_db()
    assert patient.timezone == "UTC"


# --- Invitations and care links ----------------------------------------------------------


def test_invitation_gives_a_code_valid_for_seven_days(therapist, therapist_client):
    with time_machine.travel(NOW, tick=False):
        response = therapist_client.post(f"{API}/invitations/")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"code", "expires_at"}
    assert dt.datetime.fromisoformat(body["expires_at"]) == NOW + dt.timedelta(days=7)
    invitation = Invitation.objects.get(code=body["code"])
    assert invitation.therapist == therapist
    assert invitation.accepted_by is None


def test_each_invitation_has_its_own_code(therapist):
    assert invite(therapist) != invite(therapist)


def test_accepting_an_invitation_links_the_patient_to_that_therapist(
    other_patient, therapist, therapist_client
):
    code = invite(therapist)

    response = accept(other_patient, code)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["therapist"]["id"], body["patient"]["id"]) == (therapist.id, other_patient.id)
    patients = rows(therapist_client.get(f"{API}/patients/"))
    assert other_patient.id in {row["id"] for row in patients}
    links = rows(client_for(other_patient).get(f"{API}/care-links/"))
    assert [link["therapist"]["id"] for link in links] == [therapist.id]
    invitation = Invitation.objects.get(code=code)
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (other_patient, True)


def test_invitation_code_ignores_case_and_surrounding_spaces(other_patient, therapist):
    code = invite(therapist)

    response = accept(other_patient, f"  {code.lower()} ")

    assert response.status_code == 201, response.content
    assert CareLink.objects.active().filter(therapist=therapist, patient=other_patient).exists()


def test_invitation_code_works_only_once(other_patient, therapist):
    code = invite(therapist)
    carol = make_user("carol@example.test")
    assert accept(other_patient, code).status_code == 201

    response = accept(carol, code)

    assert response.status_code == 400
    assert "code" in response.json()
    assert not CareLink.objects.filter(patient=carol).exists()


def test_expired_invitation_is_refused(other_patient, therapist):
    with time_machine.travel(NOW, tick=False):
        code = invite(therapist)
    with time_machine.travel(NOW + dt.timedelta(days=7, seconds=1), tick=False):
        response = accept(other_patient, code)

    assert response.status_code == 400
    assert "code" in response.json()
    assert not CareLink.objects.filter(patient=other_patient).exists()
    assert Invitation.objects.get(code=code).accepted_at is None


def test_invitation_still_works_just_before_it_expires(other_patient, therapist):
    with time_machine.travel(NOW, tick=False):
        code = invite(therapist)
    with time_machine.travel(NOW + dt.timedelta(days=7, seconds=-1), tick=False):
        response = accept(other_patient, code)

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("code", ["NOPE234567", "", "x" * 33])
def test_unknown_or_malformed_code_is_refused(other_patient, therapist, code):
    invite(therapist)

    response = accept(other_patient, code)

    assert response.status_code == 400
    assert "code" in response.json()
    assert not CareLink.objects.filter(patient=other_patient).exists()


def test_a_patient_may_have_several_therapists(patient, therapist, other_therapist):
    response = accept(patient, invite(other_therapist))

    assert response.status_code == 201, response.content
    for who in (therapist, other_therapist):
        listed = rows(client_for(who).get(f"{API}/patients/"))
        assert [row["id"] for row in listed] == [patient.id]
    links = rows(client_for(patient).get(f"{API}/care-links/"))
    assert {link["therapist"]["id"] for link in links} == {therapist.id, other_therapist.id}


@pytest.mark.parametrize("side", ["patient", "therapist"])
def test_either_side_can_end_a_link_and_the_row_stays_on_record(patient, therapist, side, request):
    ender = request.getfixturevalue(side)
    link = CareLink.objects.get(therapist=therapist, patient=patient)
    with time_machine.travel(NOW, tick=False):
        response = client_for(ender).delete(f"{API}/care-links/{link.id}/")

    assert response.status_code == 204
    link.refresh_from_db()
    assert (link.ended_at, link.ended_by) == (NOW, ender)
    assert rows(client_for(patient).get(f"{API}/care-links/")) == []
    assert rows(client_for(therapist).get(f"{API}/care-links/")) == []
    assert client_for(ender).delete(f"{API}/care-links/{link.id}/").status_code == 404


def test_a_patient_can_be_linked_again_after_a_link_ended(patient, therapist):
    link = CareLink.objects.get(therapist=therapist, patient=patient)
    client_for(patient).delete(f"{API}/care-links/{link.id}/")

    response = accept(patient, invite(therapist))

    assert response.status_code == 201, response.content
    assert response.json()["id"] != link.id
    assert CareLink.objects.filter(therapist=therapist, patient=patient).count() == 2
    assert CareLink.objects.active().filter(therapist=therapist, patient=patient).count() == 1


# --- Tokens, passwords, invitation codes and what a link shows ----------------------------


def test_logout_revokes_only_the_callers_token(patient, other_patient):
    alice = obtain_token(patient.email).json()["token"]
    bob = obtain_token(other_patient.email).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {alice}")

    assert client.post(f"{API}/auth/logout/").status_code == 204

    still_signed_in = APIClient()
    still_signed_in.credentials(HTTP_AUTHORIZATION=f"Token {bob}")
    assert still_signed_in.get(f"{API}/me/").status_code == 200
    assert Token.objects.filter(key=bob).exists()


def test_a_stale_token_header_does_not_stop_signing_in_or_registering(patient):
    # A client that kept the header of a revoked token still reaches the sign-in endpoints,
    # which take no credentials but the body's.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token revoked-long-ago")

    signed_in = client.post(
        f"{API}/auth/token/", {"email": patient.email, "password": PASSWORD}, format="json"
    )
    registered = register(client)

    assert signed_in.status_code == 200, signed_in.content
    assert registered.status_code == 201, registered.content


def test_a_password_with_surrounding_spaces_is_kept_as_typed(anon_client):
    password = f"  {NEW_PASSWORD}  "
    assert register(anon_client, password=password).status_code == 201

    assert obtain_token("new@example.test", password).status_code == 200
    assert obtain_token("new@example.test", NEW_PASSWORD).status_code == 401


def test_invitation_codes_are_ten_characters_of_the_unambiguous_alphabet(therapist):
    codes = [invite(therapist) for _ in range(20)]

    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{10}", code) for code in codes), codes
    # Drawn from the whole alphabet, not a part of it (200 draws from 32 characters).
    assert len(set("".join(codes))) >= 20


def test_invitation_is_refused_at_the_moment_it_expires(other_patient, therapist):
    with time_machine.travel(NOW, tick=False):
        code = invite(therapist)
    with time_machine.travel(NOW + dt.timedelta(days=7), tick=False):
        response = accept(other_patient, code)

    assert response.status_code == 400
    assert "code" in response.json()
    assert Invitation.objects.get(code=code).accepted_at is None


def test_a_failed_accept_leaves_the_code_unused(other_patient, therapist, monkeypatch):
    # The link cannot be stored (say, the database refuses it): the request stores nothing,
    # so the code is not used up without a link.
    code = invite(therapist)

    def refused(self, **kwargs):
        raise IntegrityError("care_link_one_active_per_pair")

    monkeypatch.setattr(CareLinkQuerySet, "get_or_create", refused)

    response = accept(other_patient, code)

    assert response.status_code == 400
    invitation = Invitation.objects.get(code=code)
    assert (invitation.accepted_at, invitation.accepted_by) == (None, None)
    assert not CareLink.objects.filter(patient=other_patient).exists()


def test_a_linked_account_that_is_no_longer_a_patient_is_not_listed(patient, therapist):
    # A link whose patient side became a therapist (the admin can change a role).
    User.objects.filter(pk=patient.pk).update(role=Role.THERAPIST)
    client = client_for(therapist)

    assert rows(client.get(f"{API}/patients/")) == []
    assert client.get(f"{API}/patients/{patient.id}/").status_code == 404


def test_care_link_bodies_name_each_side_by_id_name_and_email_only(patient, therapist):
    links = rows(client_for(patient).get(f"{API}/care-links/"))

    assert [set(link) for link in links] == [{"id", "therapist", "patient", "created_at"}]
    assert set(links[0]["therapist"]) == set(links[0]["patient"]) == {"id", "name", "email"}
