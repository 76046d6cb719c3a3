"""Who may call what: every API endpoint and method × every persona.

The matrix below has one row per endpoint and method, and one column per actor. A row that
is missing shows up in `test_matrix_covers_every_api_route_and_method`. Every refused
request is also checked to have stored nothing.

Ids that belong to someone else answer 404 (never 403), so nobody learns that a row exists.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.urls import URLPattern, URLResolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.api import urls as accounts_urls
from accounts.models import CareLink, Invitation, User
from recovery import services
from recovery.api import urls as recovery_urls
from recovery.models import (
    Activity,
    Clearance,
    Escalation,
    EscalationAcknowledgement,
    GuidelineOverride,
    PainEntry,
    PlanSnapshot,
    Workout,
)
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"
ACTORS = ("anonymous", "alice", "bob", "theo", "olivia")


@dataclass
class World:
    """The personas with one record of each kind, so every placeholder has a real id."""

    users: dict[str, User | None]
    ids: dict[str, int]
    today: dt.date
    code: str

    def url(self, path: str) -> str:
        return API + path.format(**self.ids)

    def body(self, template: dict[str, Any] | None) -> dict[str, Any] | None:
        if template is None:
            return None
        values = {"today": self.today.isoformat(), "code": self.code}
        return {
            key: value.format(**values) if isinstance(value, str) else value
            for key, value in template.items()
        }


def pain_entry(patient: User, day: dt.date, score: int = 3) -> PainEntry:
    return PainEntry.objects.create(
        patient=patient,
        date=day,
        score=score,
        region="lower_back",
        character="ache",
        onset="unrelated",
    )


def workout(patient: User, day: dt.date) -> Workout:
    return Workout.objects.create(
        patient=patient,
        date=day,
        activity=Activity.objects.get(slug="walking"),
        duration_min=30,
        rpe=3,
    )


def escalation(patient: User, day: dt.date, rule: str = "PERSIST_3D") -> Escalation:
    return Escalation.objects.create(
        patient=patient,
        rule=rule,
        level="attention",
        anchor=f"date:{day.isoformat()}",
        anchor_date=day,
        raised_on=day,
    )


@pytest.fixture
def world(patient, other_patient, therapist, other_therapist, today) -> World:
    alice, bob = patient, other_patient
    alice_clearance = Clearance.objects.create(
        patient=alice, cleared_on=today, source="self", clinician_name="Dr Who"
    )
    return World(
        users={
            "anonymous": None,
            "alice": alice,
            "bob": bob,
            "theo": therapist,
            "olivia": other_therapist,
        },
        ids={
            "alice": alice.id,
            "bob": bob.id,
            "olivia": other_therapist.id,
            "missing": 999_999,
            "alice_pain": pain_entry(alice, today).id,
            "bob_pain": pain_entry(bob, today).id,
            "alice_workout": workout(alice, today).id,
            "bob_workout": workout(bob, today).id,
            "alice_clearance": alice_clearance.id,
            "alice_esc": escalation(alice, today).id,
            "bob_esc": escalation(bob, today).id,
            "alice_link": CareLink.objects.get(therapist=therapist, patient=alice).id,
        },
        today=today,
        code=Invitation.objects.create(therapist=therapist).code,
    )


# Valid bodies, so that only who asks decides the answer.
PAIN = {"date": "{today}", "score": 3, "region": "neck", "character": "ache", "onset": "unrelated"}
WORKOUT = {"date": "{today}", "activity": "walking", "duration_min": 20, "rpe": 2}
S_CLEARANCE = {"cleared_on": "{today}", "clinician_name": "Dr Grey"}  # self-reported
T_CLEARANCE = {"cleared_on": "{today}", "notes": "Examined, fine."}  # by a therapist
SCORE, RPE, RENAME = {"score": 1}, {"rpe": 1}, {"name": "Renamed"}
CODE = {"code": "{code}"}  # Theo's invitation
OVERRIDE = {"stage_days": 10}

# fmt: off
MATRIX: list[tuple[str, str, dict | None, int, int, int, int, int]] = [
    # method   path                                   body         anon alice bob  theo olivia
    # --- a patient's own records (Alice owns the {alice_*} rows; Bob is another patient)
    ("GET",    "/pain-logs/",                          None,        401, 200, 200, 403, 403),
    ("POST",   "/pain-logs/",                          PAIN,        401, 201, 201, 403, 403),
    ("GET",    "/pain-logs/{alice_pain}/",             None,        401, 200, 404, 403, 403),
    ("PATCH",  "/pain-logs/{alice_pain}/",             SCORE,       401, 200, 404, 403, 403),
    ("DELETE", "/pain-logs/{alice_pain}/",             None,        401, 204, 404, 403, 403),
    ("GET",    "/pain-logs/{missing}/",                None,        401, 404, 404, 403, 403),
    ("GET",    "/workouts/",                           None,        401, 200, 200, 403, 403),
    ("POST",   "/workouts/",                           WORKOUT,     401, 201, 201, 403, 403),
    ("GET",    "/workouts/{alice_workout}/",           None,        401, 200, 404, 403, 403),
    ("PATCH",  "/workouts/{alice_workout}/",           RPE,         401, 200, 404, 403, 403),
    ("DELETE", "/workouts/{alice_workout}/",           None,        401, 204, 404, 403, 403),
    ("GET",    "/clearances/",                         None,        401, 200, 200, 403, 403),
    ("POST",   "/clearances/",                         S_CLEARANCE, 401, 201, 201, 403, 403),
    ("GET",    "/plan/",                               None,        401, 200, 200, 403, 403),
    # --- escalations: own for a patient, linked patients' for a therapist
    ("GET",    "/escalations/",                        None,        401, 200, 200, 200, 200),
    ("POST",   "/escalations/{alice_esc}/acknowledge/",None,        401, 403, 403, 200, 404),
    ("POST",   "/escalations/{bob_esc}/acknowledge/",  None,        401, 403, 403, 404, 404),
    # --- anyone signed in
    ("GET",    "/activities/",                         None,        401, 200, 200, 200, 200),
    ("GET",    "/me/",                                 None,        401, 200, 200, 200, 200),
    ("PATCH",  "/me/",                                 RENAME,      401, 200, 200, 200, 200),
    ("POST",   "/auth/logout/",                        None,        401, 204, 204, 204, 204),
    ("GET",    "/care-links/",                         None,        401, 200, 200, 200, 200),
    ("GET",    "/care-links/{alice_link}/",            None,        401, 200, 404, 200, 404),
    ("DELETE", "/care-links/{alice_link}/",            None,        401, 204, 404, 204, 404),
    # --- invitations: therapists create, patients accept (Alice is already Theo's: no-op)
    ("POST",   "/invitations/",                        None,        401, 403, 403, 201, 201),
    ("POST",   "/invitations/accept/",                 CODE,        401, 201, 201, 403, 403),
    # --- a therapist's linked patients (Theo ↔ Alice only)
    ("GET",    "/patients/",                           None,        401, 403, 403, 200, 200),
    ("GET",    "/patients/{alice}/",                   None,        401, 403, 403, 200, 404),
    ("GET",    "/patients/{bob}/",                     None,        401, 403, 403, 404, 404),
    ("GET",    "/patients/{olivia}/",                  None,        401, 403, 403, 404, 404),
    ("GET",    "/patients/{missing}/",                 None,        401, 403, 403, 404, 404),
    ("GET",    "/patients/{alice}/pain-logs/",         None,        401, 403, 403, 200, 404),
    ("GET",    "/patients/{bob}/pain-logs/",           None,        401, 403, 403, 404, 404),
    ("GET",    "/patients/{alice}/workouts/",          None,        401, 403, 403, 200, 404),
    ("GET",    "/patients/{bob}/workouts/",            None,        401, 403, 403, 404, 404),
    ("GET",    "/patients/{alice}/plan/",              None,        401, 403, 403, 200, 404),
    ("GET",    "/patients/{bob}/plan/",                None,        401, 403, 403, 404, 404),
    ("GET",    "/patients/{alice}/clearances/",        None,        401, 403, 403, 200, 404),
    ("POST",   "/patients/{alice}/clearances/",        T_CLEARANCE, 401, 403, 403, 201, 404),
    ("POST",   "/patients/{bob}/clearances/",          T_CLEARANCE, 401, 403, 403, 404, 404),
    ("GET",    "/patients/{alice}/overrides/",         None,        401, 403, 403, 200, 404),
    ("PATCH",  "/patients/{alice}/overrides/",         OVERRIDE,    401, 403, 403, 200, 404),
    ("PATCH",  "/patients/{bob}/overrides/",           OVERRIDE,    401, 403, 403, 404, 404),
]
# fmt: on

# Open to anyone by design (no account yet); tested in test_api_accounts.py.
PUBLIC_ROUTES = {("POST", "/auth/register/"), ("POST", "/auth/token/")}

CASES = [
    pytest.param(method, path, body, actor, expected, id=f"{method} {path} as {actor}")
    for method, path, body, *codes in MATRIX
    for actor, expected in zip(ACTORS, codes, strict=True)
]

STORED_MODELS = (
    User,
    Token,
    CareLink,
    Invitation,
    PainEntry,
    Workout,
    Clearance,
    Escalation,
    EscalationAcknowledgement,
    GuidelineOverride,
    PlanSnapshot,
)


def stored_rows() -> dict[str, list[dict]]:
    """Everything a request could write, to compare before and after a refused request."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in STORED_MODELS}


def send(client: APIClient, method: str, url: str, body: dict | None = None):
    return getattr(client, method.lower())(url, body, format="json")


def rows(response) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


@pytest.mark.parametrize(("method", "path", "body", "actor", "expected"), CASES)
def test_access_matrix(world, method, path, body, actor, expected):
    client = client_for(world.users[actor])
    before = stored_rows()

    response = send(client, method, world.url(path), world.body(body))

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert stored_rows() == before, "a refused request changed stored data"


def _routes(patterns: list[URLPattern | URLResolver]) -> set[tuple[str, str]]:
    """(METHOD, /route/) for every handler a view implements, ids written as {id}."""
    found = set()
    for pattern in patterns:
        view = pattern.callback.view_class
        route = "/" + re.sub(r"<[^>]+>", "{id}", str(pattern.pattern))
        for method in view.http_method_names:
            if method not in {"head", "options"} and hasattr(view, method):
                found.add((method.upper(), route))
    return found


def test_matrix_covers_every_api_route_and_method():
    implemented = _routes(recovery_urls.urlpatterns) | _routes(accounts_urls.urlpatterns)
    in_matrix = {(method, re.sub(r"\{\w+\}", "{id}", path)) for method, path, *_ in MATRIX}

    assert implemented - in_matrix - PUBLIC_ROUTES == set(), "routes missing from MATRIX"
    assert in_matrix - implemented == set(), "MATRIX rows for routes that do not exist"


def test_bad_token_is_401_not_anonymous_access(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get(f"{API}/me/").status_code == 401
    assert client.get(f"{API}/pain-logs/").status_code == 401


# --- Someone else's rows: 404, and the row untouched ---------------------------------------


@pytest.mark.parametrize(("path", "model", "change"), [
    ("/pain-logs/{alice_pain}/", PainEntry, {"score": 9, "notes": "bob was here"}),
    ("/workouts/{alice_workout}/", Workout, {"rpe": 9, "notes": "bob was here"}),
])  # fmt: skip
def test_bob_cannot_read_change_or_delete_alices_record(world, path, model, change):
    bob = client_for(world.users["bob"])
    url = world.url(path)
    pk = int(url.rstrip("/").rsplit("/", 1)[1])
    original = model.objects.filter(pk=pk).values().get()

    assert bob.get(url).status_code == 404
    assert bob.patch(url, change, format="json").status_code == 404
    assert bob.delete(url).status_code == 404

    assert model.objects.filter(pk=pk).values().get() == original


def test_olivia_cannot_record_a_clearance_or_override_for_alice(world):
    olivia = client_for(world.users["olivia"])
    alice_id = world.ids["alice"]

    clearance = olivia.post(
        f"{API}/patients/{alice_id}/clearances/", world.body(T_CLEARANCE), format="json"
    )
    override = olivia.patch(
        f"{API}/patients/{alice_id}/overrides/", {"stage_days": 10}, format="json"
    )

    assert (clearance.status_code, override.status_code) == (404, 404)
    assert Clearance.objects.filter(patient_id=alice_id, source="therapist").count() == 0
    assert not GuidelineOverride.objects.filter(patient_id=alice_id).exists()


@pytest.mark.parametrize(
    "body",
    [{"cleared_on": "not a date"}, {"cleared_on": "{today}", "surprise": 1}, {}],
    ids=["bad-date", "unknown-field", "empty"],
)
@pytest.mark.parametrize("target", ["alice", "nobody"])
def test_an_unlinked_id_is_404_before_the_body_is_judged(world, body, target):
    """Whether the body is good or bad must not tell Olivia whether Alice exists."""
    olivia = client_for(world.users["olivia"])
    patient_id = world.ids["alice"] if target == "alice" else 999_999
    before = stored_rows()
    for method, path in (
        ("post", f"{API}/patients/{patient_id}/clearances/"),
        ("patch", f"{API}/patients/{patient_id}/overrides/"),
    ):
        response = getattr(olivia, method)(path, world.body(body), format="json")
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    assert stored_rows() == before


@pytest.mark.parametrize(
    "path", ["", "pain-logs/", "workouts/", "plan/", "clearances/", "overrides/"]
)
def test_a_patient_id_that_is_not_a_number_is_404(world, path):
    # {id} is an integer in every patient path, as the schema says: no lookup by text.
    theo = client_for(world.users["theo"])
    response = theo.get(f"{API}/patients/alice/{path}")
    assert response.status_code == 404


def test_acknowledging_a_stranger_escalation_stores_no_acknowledgement(world):
    theo = client_for(world.users["theo"])

    response = theo.post(f"{API}/escalations/{world.ids['bob_esc']}/acknowledge/")

    assert response.status_code == 404
    assert not EscalationAcknowledgement.objects.exists()


# --- Bodies never leak other people's rows ---------------------------------------------------


def test_therapist_escalations_list_only_linked_patients(world, therapist):
    # A second escalation for Alice and one for an unrelated patient of Olivia's.
    carol = make_user("carol@example.test")
    CareLink.objects.create(therapist=world.users["olivia"], patient=carol)
    second_alice = escalation(world.users["alice"], world.today, rule="PERSIST_7D")
    escalation(carol, world.today)

    response = client_for(therapist).get(f"{API}/escalations/")

    assert response.status_code == 200
    listed = {(row["id"], row["patient"]) for row in rows(response)}
    alice_id = world.ids["alice"]
    assert listed == {(world.ids["alice_esc"], alice_id), (second_alice.id, alice_id)}


def test_unlinked_therapist_sees_no_escalations(world):
    response = client_for(world.users["olivia"]).get(f"{API}/escalations/")

    assert response.status_code == 200
    assert rows(response) == []


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_patient_escalations_list_only_their_own(world, who):
    response = client_for(world.users[who]).get(f"{API}/escalations/")

    assert response.status_code == 200
    assert [row["id"] for row in rows(response)] == [world.ids[f"{who}_esc"]]
    assert {row["patient"] for row in rows(response)} == {world.ids[who]}


@pytest.mark.parametrize("who", ["alice", "bob"])
@pytest.mark.parametrize("path", ["/pain-logs/", "/workouts/"])
def test_patient_lists_hold_only_their_own_records(world, who, path):
    kind = "pain" if "pain" in path else "workout"

    response = client_for(world.users[who]).get(f"{API}{path}")

    assert response.status_code == 200
    assert [row["id"] for row in rows(response)] == [world.ids[f"{who}_{kind}"]]


def test_patient_list_shows_linked_patients_and_nobody_else(world):
    theo = client_for(world.users["theo"]).get(f"{API}/patients/")
    olivia = client_for(world.users["olivia"]).get(f"{API}/patients/")

    assert [row["id"] for row in rows(theo)] == [world.ids["alice"]]
    assert rows(olivia) == []


def test_therapist_patient_records_hold_only_that_patient(world):
    theo = client_for(world.users["theo"])
    alice = world.ids["alice"]

    Clearance.objects.create(
        patient=world.users["bob"], cleared_on=world.today, source="self", clinician_name="Dr B"
    )

    pains = rows(theo.get(f"{API}/patients/{alice}/pain-logs/"))
    workouts = rows(theo.get(f"{API}/patients/{alice}/workouts/"))
    clearances = rows(theo.get(f"{API}/patients/{alice}/clearances/"))

    assert [row["id"] for row in pains] == [world.ids["alice_pain"]]
    assert [row["id"] for row in workouts] == [world.ids["alice_workout"]]
    assert [row["id"] for row in clearances] == [world.ids["alice_clearance"]]


def test_overrides_are_each_patients_own(world):
    alice, bob = world.users["alice"], world.users["bob"]
    theo, olivia = world.users["theo"], world.users["olivia"]
    CareLink.objects.create(therapist=olivia, patient=bob)
    services.overrides_set(patient=alice, values={"stage_days": 10}, set_by=theo)
    services.overrides_set(patient=bob, values={"stage_days": 20, "flare_min": 5}, set_by=olivia)
    theo_client = client_for(theo)

    listed = theo_client.get(f"{API}/patients/{alice.id}/overrides/").json()
    restored = theo_client.patch(
        f"{API}/patients/{alice.id}/overrides/", {"stage_days": None}, format="json"
    )

    set_for_alice = {row["name"]: (row["value"], row["set_by"]) for row in listed if row["set_by"]}
    assert set_for_alice == {"stage_days": (10, str(theo))}
    assert restored.status_code == 200
    assert sorted(GuidelineOverride.objects.values_list("patient_id", "name", "value")) == [
        (bob.id, "flare_min", 5),
        (bob.id, "stage_days", 20),
    ]


@pytest.mark.parametrize("who", ["bob", "olivia"])
def test_care_links_list_is_empty_for_the_unlinked(world, who):
    response = client_for(world.users[who]).get(f"{API}/care-links/")

    assert response.status_code == 200
    assert rows(response) == []


def test_ending_the_care_link_turns_therapist_access_into_404_at_once(world):
    theo = client_for(world.users["theo"])
    alice = world.ids["alice"]
    assert theo.get(f"{API}/patients/{alice}/").status_code == 200

    ended = client_for(world.users["alice"]).delete(f"{API}/care-links/{world.ids['alice_link']}/")

    assert ended.status_code == 204
    for path in ("/", "/pain-logs/", "/workouts/", "/plan/", "/clearances/", "/overrides/"):
        assert theo.get(f"{API}/patients/{alice}{path}").status_code == 404, path
    assert rows(theo.get(f"{API}/patients/")) == []
    assert rows(theo.get(f"{API}/escalations/")) == []
    acknowledge = theo.post(f"{API}/escalations/{world.ids['alice_esc']}/acknowledge/")
    assert acknowledge.status_code == 404


def test_relinking_after_an_ended_link_lists_each_row_once(world):
    alice_client = client_for(world.users["alice"])
    alice_client.delete(f"{API}/care-links/{world.ids['alice_link']}/")
    code = client_for(world.users["theo"]).post(f"{API}/invitations/").json()["code"]

    accepted = alice_client.post(f"{API}/invitations/accept/", {"code": code}, format="json")

    assert accepted.status_code == 201
    theo = client_for(world.users["theo"])
    assert [row["id"] for row in rows(theo.get(f"{API}/patients/"))] == [world.ids["alice"]]
    assert [row["id"] for row in rows(theo.get(f"{API}/escalations/"))] == [world.ids["alice_esc"]]


def test_patient_with_two_therapists_is_visible_to_both_once(world):
    olivia_user = world.users["olivia"]
    CareLink.objects.create(therapist=olivia_user, patient=world.users["alice"])

    for therapist in ("theo", "olivia"):
        client = client_for(world.users[therapist])
        assert [row["id"] for row in rows(client.get(f"{API}/patients/"))] == [world.ids["alice"]]
        assert [row["id"] for row in rows(client.get(f"{API}/escalations/"))] == [
            world.ids["alice_esc"]
        ]


def test_acknowledgement_is_per_therapist(world):
    olivia_user = world.users["olivia"]
    CareLink.objects.create(therapist=olivia_user, patient=world.users["alice"])
    escalation_id = world.ids["alice_esc"]

    theo = client_for(world.users["theo"])
    acknowledged = theo.post(f"{API}/escalations/{escalation_id}/acknowledge/")

    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged_at"] is not None
    by_olivia = rows(client_for(olivia_user).get(f"{API}/escalations/"))
    assert [(row["id"], row["acknowledged_at"]) for row in by_olivia] == [(escalation_id, None)]
    by_alice = rows(client_for(world.users["alice"]).get(f"{API}/escalations/"))
    assert by_alice[0]["acknowledged_at"] is not None


def test_a_patient_sees_when_their_escalation_was_first_acknowledged(world):
    olivia = world.users["olivia"]
    CareLink.objects.create(therapist=olivia, patient=world.users["alice"])
    url = f"{API}/escalations/{world.ids['alice_esc']}/acknowledge/"
    start = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        first = client_for(world.users["theo"]).post(url).json()["acknowledged_at"]
    with time_machine.travel(start + dt.timedelta(hours=2), tick=False):
        client_for(olivia).post(url)

    by_alice = rows(client_for(world.users["alice"]).get(f"{API}/escalations/"))

    assert EscalationAcknowledgement.objects.count() == 2
    assert by_alice[0]["acknowledged_at"] == first


def test_escalations_list_newest_first_with_the_contract_fields(world):
    alice = world.users["alice"]
    older = escalation(alice, world.today - dt.timedelta(days=3), rule="RECURRENCE")
    Escalation.objects.filter(id=older.id).update(raised_at=older.raised_at - dt.timedelta(days=3))

    listed = rows(client_for(alice).get(f"{API}/escalations/"))

    assert [row["id"] for row in listed] == [world.ids["alice_esc"], older.id]
    required = {"id", "patient", "rule", "level", "anchor_date", "raised_at", "acknowledged_at"}
    assert all(required <= set(row) for row in listed)


def test_an_escalation_recorded_later_lists_first_even_for_an_earlier_day(world):
    """Newest first is the order they were raised in (raised_at), not the day each history
    raised them on: a back-filled week's escalation is new to the reader."""
    alice = world.users["alice"]
    backfilled = escalation(alice, world.today - dt.timedelta(days=5), rule="PERSIST_7D")
    Escalation.objects.filter(id=world.ids["alice_esc"]).update(
        raised_at=backfilled.raised_at - dt.timedelta(hours=1)
    )

    listed = rows(client_for(alice).get(f"{API}/escalations/"))

    assert [row["id"] for row in listed] == [backfilled.id, world.ids["alice_esc"]]


def test_acknowledging_twice_keeps_one_acknowledgement(world):
    theo = client_for(world.users["theo"])
    url = f"{API}/escalations/{world.ids['alice_esc']}/acknowledge/"

    first = theo.post(url).json()["acknowledged_at"]
    second = theo.post(url).json()["acknowledged_at"]

    assert first == second
    assert EscalationAcknowledgement.objects.count() == 1
