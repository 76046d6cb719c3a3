"""What patients record, and what the progression engine concludes from it.

Every range and enum the API validates is enforced again by a database constraint, so no
path (admin, shell, a future import) can store a row the engine would choke on.
"""

from __future__ import annotations

import functools
import operator

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from backend.validators import single_line
from recovery.engine.guideline import OVERRIDE_BOUNDS

NOTES_MAX_LENGTH = 2000


class Region(models.TextChoices):
    LOWER_BACK = "lower_back", "Lower back"
    MID_BACK = "mid_back", "Mid back"
    UPPER_BACK = "upper_back", "Upper back"
    NECK = "neck", "Neck"


class Character(models.TextChoices):
    ACHE = "ache", "Ache"
    STIFFNESS = "stiffness", "Stiffness"
    SHARP = "sharp", "Sharp"
    SHOOTING = "shooting", "Shooting"


class Onset(models.TextChoices):
    DURING_EXERCISE = "during_exercise", "During exercise"
    AFTER_EXERCISE = "after_exercise", "Within hours after exercise"
    DELAYED = "delayed", "The next day or later"
    UNRELATED = "unrelated", "Not related to exercise"


class RedFlag(models.TextChoices):
    BOWEL_BLADDER = "bowel_bladder", "Loss of bowel or bladder control"
    SADDLE_NUMBNESS = "saddle_numbness", "Numbness in the groin or buttocks"
    LEG_PARALYSIS = "leg_paralysis", "Leg paralysis"
    LEG_NUMBNESS = "leg_numbness", "Numbness or tingling down the legs"
    LEG_WEAKNESS = "leg_weakness", "Leg weakness, cramping or loss of coordination"
    NIGHT_PAIN = "night_pain", "Severe pain that disrupts sleep"


class Category(models.TextChoices):
    MOBILITY = "mobility", "Mobility"
    CORE = "core", "Core"
    LOW_IMPACT = "low_impact", "Low impact"
    STRENGTH_LIGHT = "strength_light", "Light strength"
    HIGH_IMPACT = "high_impact", "High impact"
    HEAVY_STRENGTH = "heavy_strength", "Heavy strength"
    OLYMPIC = "olympic", "Olympic lifting"
    TWISTING = "twisting", "Twisting"
    EXTENSION_YOGA = "extension_yoga", "Extension yoga"
    PIVOT_SPORT = "pivot_sport", "Pivoting sport"


class Phase(models.TextChoices):
    ACTIVE = "active", "Active"
    REST = "rest", "Relative rest"
    RETURN = "return", "Return to exercise"
    MEDICAL_REVIEW = "medical_review", "Medical review"


class Level(models.TextChoices):
    INFO = "info", "Info"
    ATTENTION = "attention", "Attention"
    SEE_DOCTOR = "see_doctor", "See a doctor"
    URGENT = "urgent", "Urgent"
    EMERGENCY = "emergency", "Emergency"


class EscalationLevel(models.TextChoices):
    """A plan's escalation level: a Level, or none when nothing is open."""

    NONE = "none", "None"
    INFO = "info", "Info"
    ATTENTION = "attention", "Attention"
    SEE_DOCTOR = "see_doctor", "See a doctor"
    URGENT = "urgent", "Urgent"
    EMERGENCY = "emergency", "Emergency"


def _in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


# API.md's bounds, one number each for the database constraint, the field's validators (so
# forms, the admin's, name the bound) and the API's serializers.
SCORE_RANGE = (0, 10)
DURATION_RANGE = (1, 600)
RPE_RANGE = (0, 10)
LOAD_KG_RANGE = (0, 1000)


def _between(field: str, low: int, high: int) -> Q:
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})


def _within(low: int, high: int) -> list:
    return [MinValueValidator(low), MaxValueValidator(high)]


def _notes_fit(model: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length("notes"), NOTES_MAX_LENGTH), name=f"{model}_notes_2000"
    )


class Activity(models.Model):
    """The activity catalogue: each slug belongs to one risk category (GUIDELINES.md)."""

    slug = models.SlugField(primary_key=True, max_length=40)
    name = models.CharField(max_length=80)
    category = models.CharField(max_length=20, choices=Category.choices)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(
                condition=_in("category", Category), name="activity_category_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RecordedModel(models.Model):
    """A patient's dated record. `created_at` is the recorded order the engine replays: the
    services set it under the patient's lock when the record is saved, and again when an
    edit changes what a pain entry reports (`services.PAIN_REPORTED_FIELDS`)."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PainEntry(RecordedModel):
    date = models.DateField()
    score = models.PositiveSmallIntegerField(validators=_within(*SCORE_RANGE))
    region = models.CharField(max_length=16, choices=Region.choices)
    character = models.CharField(max_length=16, choices=Character.choices)
    onset = models.CharField(max_length=16, choices=Onset.choices)
    # One column per red flag: the set is fixed by the guidelines, and a boolean column
    # is something every database can constrain and index.
    bowel_bladder = models.BooleanField(default=False)
    saddle_numbness = models.BooleanField(default=False)
    leg_paralysis = models.BooleanField(default=False)
    leg_numbness = models.BooleanField(default=False)
    leg_weakness = models.BooleanField(default=False)
    night_pain = models.BooleanField(default=False)

    class Meta:
        ordering = ["-date", "-created_at", "-id"]
        verbose_name_plural = "pain entries"
        indexes = [models.Index(fields=["patient", "date"], name="painentry_patient_date")]
        constraints = [
            models.CheckConstraint(
                condition=_between("score", *SCORE_RANGE), name="painentry_score_0_10"
            ),
            models.CheckConstraint(condition=_in("region", Region), name="painentry_region_valid"),
            models.CheckConstraint(
                condition=_in("character", Character), name="painentry_character_valid"
            ),
            models.CheckConstraint(condition=_in("onset", Onset), name="painentry_onset_valid"),
            _notes_fit("painentry"),
        ]

    def __str__(self) -> str:
        return f"{self.date} pain {self.score} ({self.character})"

    @property
    def red_flags(self) -> list[str]:
        return [flag for flag in RedFlag.values if getattr(self, flag)]


class Workout(RecordedModel):
    date = models.DateField()
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="+")
    duration_min = models.PositiveSmallIntegerField(validators=_within(*DURATION_RANGE))
    rpe = models.PositiveSmallIntegerField("RPE (Borg CR10)", validators=_within(*RPE_RANGE))
    load_kg = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, validators=_within(*LOAD_KG_RANGE)
    )

    class Meta:
        ordering = ["-date", "-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "date"], name="workout_patient_date")]
        constraints = [
            models.CheckConstraint(
                condition=_between("duration_min", *DURATION_RANGE), name="workout_duration_1_600"
            ),
            models.CheckConstraint(condition=_between("rpe", *RPE_RANGE), name="workout_rpe_0_10"),
            models.CheckConstraint(
                condition=Q(load_kg__isnull=True) | _between("load_kg", *LOAD_KG_RANGE),
                name="workout_load_0_1000",
            ),
            _notes_fit("workout"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.activity_id} {self.duration_min} min @ RPE {self.rpe}"

    @property
    def session_load(self) -> int:
        """Session-RPE load in arbitrary units (Foster 2001)."""
        return self.rpe * self.duration_min


class ClearanceSource(models.TextChoices):
    THERAPIST = "therapist", "Recorded by a linked therapist"
    SELF_REPORTED = "self", "Self-reported by the patient"


class Clearance(RecordedModel):
    """A medical clearance to return to exercise."""

    cleared_on = models.DateField()
    source = models.CharField(max_length=16, choices=ClearanceSource.choices)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    clinician_name = models.CharField(max_length=150, blank=True, validators=[single_line])

    class Meta:
        ordering = ["-cleared_on", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_in("source", ClearanceSource), name="clearance_source_valid"
            ),
            # A self-reported clearance must name the clinician who gave it.
            models.CheckConstraint(
                condition=~Q(source=ClearanceSource.SELF_REPORTED) | ~Q(clinician_name=""),
                name="clearance_self_names_clinician",
            ),
            _notes_fit("clearance"),
        ]

    def __str__(self) -> str:
        return f"cleared on {self.cleared_on} ({self.get_source_display()})"


def _override_within_bounds() -> Q:
    """Each overridable name with its value inside the guideline's bounds (any other name fails)."""
    per_name = (
        Q(name=name) & _between("value", low, high) for name, (low, high) in OVERRIDE_BOUNDS.items()
    )
    return functools.reduce(operator.or_, per_name)


class GuidelineOverride(models.Model):
    """A linked therapist's per-patient value for one overridable guideline number."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=32)
    value = models.FloatField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["patient", "name"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "name"], name="override_one_per_name"),
            models.CheckConstraint(
                condition=_override_within_bounds(), name="override_within_bounds"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} = {self.value:g}"


class PlanSnapshot(models.Model):
    """The latest plan summary per patient, so lists and dashboards never replay history."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="plan_snapshot",
    )
    evaluated_for = models.DateField()
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.ACTIVE)
    stage = models.PositiveSmallIntegerField(null=True, blank=True)
    escalation_level = models.CharField(
        max_length=16, choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    clearance_required = models.BooleanField(default=False)
    episode_start = models.DateField(null=True, blank=True)
    last_log_date = models.DateField(null=True, blank=True)
    # The engine's state at the end of the patient's yesterday (engine/checkpoint.py): the
    # next save replays from it, loading only the records dated after it.
    checkpoint = models.JSONField(null=True, blank=True, editable=False)
    # The history changed since the sweep last replayed it. A save cannot record what only
    # the sweep may (MISSED_LOGS, REST_MAX), so the sweep takes such a patient at least once
    # even when every record is older than its look-back (a back-filled past episode).
    sweep_pending = models.BooleanField(default=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["sweep_pending"],
                condition=Q(sweep_pending=True),
                name="snapshot_sweep_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=_in("phase", Phase), name="snapshot_phase_valid"),
            models.CheckConstraint(
                condition=_in("escalation_level", EscalationLevel), name="snapshot_level_valid"
            ),
            models.CheckConstraint(
                condition=(Q(phase=Phase.RETURN) & _between("stage", 1, 3))
                | (~Q(phase=Phase.RETURN) & Q(stage__isnull=True)),
                name="snapshot_stage_only_in_return",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phase} on {self.evaluated_for}"


class Escalation(models.Model):
    """A rule of level attention or above (or a therapist-facing info rule) that fired.

    One row per (patient, rule, anchor): the constraint makes a duplicate impossible
    however often a save or the sweep re-evaluates the same history.
    """

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.CharField(max_length=32)
    level = models.CharField(max_length=16, choices=Level.choices)
    anchor = models.CharField(max_length=40)
    anchor_date = models.DateField()
    raised_on = models.DateField(help_text="The date in the history on which the rule fired.")
    raised_at = models.DateTimeField(default=timezone.now, help_text="When it was recorded.")
    open_when_recorded = models.BooleanField(
        default=True, help_text="Still open on the day it was recorded (only then is it sent)."
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["patient", "-raised_at"], name="escalation_patient_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "rule", "anchor"], name="escalation_one_per_anchor"
            ),
            models.CheckConstraint(condition=_in("level", Level), name="escalation_level_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} ({self.level}) anchored {self.anchor_date}"


class EscalationAcknowledgement(models.Model):
    """A therapist has seen an escalation. Each linked therapist acknowledges separately."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "therapist"], name="acknowledgement_once_per_therapist"
            )
        ]

    def __str__(self) -> str:
        return f"seen by {self.therapist_id} at {self.acknowledged_at:%Y-%m-%d %H:%M}"
