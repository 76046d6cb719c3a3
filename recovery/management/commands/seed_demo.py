"""A demo clinic: one therapist and patients whose histories land in every phase."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as account_services
from accounts.models import CareLink, Role, User
from recovery import jobs, services
from recovery.models import Activity

DEMO_PASSWORD = "rebound-demo-2026"  # noqa: S105
THERAPIST_EMAIL = "therapist@demo.rebound.test"

# (email, name, story): each story is (days ago, kind, fields) events.
PAIN = "pain"
WORKOUT = "workout"


def _daily(start: int, scores: list[int], **fields) -> list[tuple[int, str, dict]]:
    """Pain entries on consecutive days from `start` days ago."""
    return [
        (start - offset, PAIN, {"score": score, **fields}) for offset, score in enumerate(scores)
    ]


def _training(weeks: int, end: int) -> list[tuple[int, str, dict]]:
    """A steady routine of three sessions a week ending `end` days ago."""
    sessions = []
    for week in range(weeks):
        for day, activity, rpe, minutes in (
            (0, "running", 6, 40),
            (2, "squat", 7, 45),
            (4, "cycling", 5, 50),
        ):
            sessions.append(
                (
                    end + 7 * week + day,
                    WORKOUT,
                    {"activity": activity, "rpe": rpe, "duration_min": minutes},
                )
            )
    return sessions


STORIES = [
    (
        "ava@demo.rebound.test",
        "Ava Active",  # training normally; sore after deadlifts (DOMS advice only)
        [
            *_training(5, 3),
            (2, WORKOUT, {"activity": "deadlift", "rpe": 8, "duration_min": 45}),
            *_daily(1, [3, 3], character="ache", onset="delayed"),
        ],
    ),
    (
        "rory@demo.rebound.test",
        "Rory Rest",  # sharp pain deadlifting four days ago: relative rest
        [
            *_training(4, 5),
            (4, WORKOUT, {"activity": "deadlift", "rpe": 8, "duration_min": 40}),
            (4, PAIN, {"score": 8, "character": "sharp", "onset": "during_exercise"}),
            *_daily(3, [6, 5, 5, 4]),
        ],
    ),
    (
        "rita@demo.rebound.test",
        "Rita Return",  # rested, improved, and is now in stage 2 of the return
        [
            *_training(4, 31),
            (30, PAIN, {"score": 7, "character": "sharp", "onset": "during_exercise"}),
            *_daily(29, [6, 5, 5, 4, 3, 3, 2, 2]),
            *_daily(21, [2, 1, 1, 2, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]),
            (12, WORKOUT, {"activity": "walking", "rpe": 3, "duration_min": 30}),
            (5, WORKOUT, {"activity": "resistance_band", "rpe": 4, "duration_min": 25}),
        ],
    ),
    (
        "max@demo.rebound.test",
        "Max Review",  # numbness down the leg yesterday: see a doctor within 48 hours
        [
            *_daily(6, [4, 4, 3, 3, 4]),
            (1, PAIN, {"score": 5, "character": "shooting", "red_flags": ["leg_numbness"]}),
            *_daily(0, [4]),
        ],
    ),
    (
        "pia@demo.rebound.test",
        "Pia Persistent",  # an ache that has not let up for five days
        _daily(4, [4, 4, 5, 4, 4]),
    ),
]


class Command(BaseCommand):
    help = "Create a demo clinic: a therapist and patients with histories in every phase."

    def handle(self, *args, **options) -> None:
        if User.objects.filter(email=THERAPIST_EMAIL).exists():
            self.stdout.write("The demo clinic exists already.")
        else:
            with transaction.atomic():
                self._create()
            jobs.sweep()
            self.stdout.write(self.style.SUCCESS("Created the demo clinic."))
        self.stdout.write(
            f"Sign in at /accounts/login/ or get a token at /api/v1/auth/token/ with password "
            f"{DEMO_PASSWORD!r} as the therapist {THERAPIST_EMAIL} or a patient: "
            + ", ".join(email for email, _, _ in STORIES)
        )

    def _create(self) -> None:
        therapist = account_services.user_create(
            email=THERAPIST_EMAIL,
            password=DEMO_PASSWORD,
            role=Role.THERAPIST,
            name="Dr Demo Therapist",
        )
        activities = {activity.slug: activity for activity in Activity.objects.all()}
        for email, name, story in STORIES:
            patient = account_services.user_create(email=email, password=DEMO_PASSWORD, name=name)
            CareLink.objects.create(therapist=therapist, patient=patient)
            today = patient.local_today()
            for days_ago, kind, fields in sorted(story, key=lambda event: -event[0]):
                day = today - dt.timedelta(days=days_ago)
                if kind == PAIN:
                    services.pain_entry_create(
                        patient=patient,
                        date=day,
                        region="lower_back",
                        character=fields.get("character", "ache"),
                        onset=fields.get("onset", "unrelated"),
                        score=fields["score"],
                        red_flags=fields.get("red_flags", ()),
                    )
                else:
                    services.workout_create(
                        patient=patient,
                        date=day,
                        activity=activities[fields["activity"]],
                        duration_min=fields["duration_min"],
                        rpe=fields["rpe"],
                    )
