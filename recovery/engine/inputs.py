"""What the engine reads: the patient's records, and the vocabulary of GUIDELINES.md.

Every enum is a `StrEnum`, so its members compare and hash equal to the plain strings the API
and the database use (`Phase.REST == "rest"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Phase(StrEnum):
    ACTIVE = "active"
    REST = "rest"
    RETURN = "return"
    MEDICAL_REVIEW = "medical_review"


class Level(StrEnum):
    INFO = "info"
    ATTENTION = "attention"
    SEE_DOCTOR = "see_doctor"
    URGENT = "urgent"
    EMERGENCY = "emergency"


NO_LEVEL = "none"
"""A plan's `escalation_level` when no escalation is open."""

LEVEL_ORDER: tuple[str, ...] = (NO_LEVEL, *(level.value for level in Level))
"""Every escalation level, lowest first; "none" ranks below all of them."""

_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVEL_ORDER)}


def level_rank(level: str) -> int:
    """0 for "none", then 1 (info) … 5 (emergency). Raises KeyError on an unknown level."""
    return _LEVEL_RANK[level]


def max_level(*levels: str) -> str:
    """The highest of `levels`, or "none" when there are none."""
    return max(levels, key=level_rank, default=NO_LEVEL)


def level_at_least(level: str, threshold: str) -> bool:
    return level_rank(level) >= level_rank(threshold)


class Region(StrEnum):
    LOWER_BACK = "lower_back"
    MID_BACK = "mid_back"
    UPPER_BACK = "upper_back"
    NECK = "neck"


class Character(StrEnum):
    ACHE = "ache"
    STIFFNESS = "stiffness"
    SHARP = "sharp"
    SHOOTING = "shooting"


class Onset(StrEnum):
    DURING_EXERCISE = "during_exercise"
    AFTER_EXERCISE = "after_exercise"
    DELAYED = "delayed"
    UNRELATED = "unrelated"


class RedFlag(StrEnum):
    BOWEL_BLADDER = "bowel_bladder"
    SADDLE_NUMBNESS = "saddle_numbness"
    LEG_PARALYSIS = "leg_paralysis"
    LEG_NUMBNESS = "leg_numbness"
    LEG_WEAKNESS = "leg_weakness"
    NIGHT_PAIN = "night_pain"


EMERGENCY_FLAGS = frozenset({RedFlag.BOWEL_BLADDER, RedFlag.SADDLE_NUMBNESS, RedFlag.LEG_PARALYSIS})
URGENT_FLAGS = frozenset({RedFlag.LEG_NUMBNESS, RedFlag.LEG_WEAKNESS, RedFlag.NIGHT_PAIN})
SHARP_CHARACTERS = frozenset({Character.SHARP, Character.SHOOTING})
SORE_CHARACTERS = frozenset({Character.ACHE, Character.STIFFNESS})
EXERCISE_ONSETS = frozenset({Onset.DURING_EXERCISE, Onset.AFTER_EXERCISE})


class Rule(StrEnum):
    """Every rule ID of GUIDELINES.md, in the order of its table."""

    RED_FLAG_EMERGENCY = "RED_FLAG_EMERGENCY"
    RED_FLAG_URGENT = "RED_FLAG_URGENT"
    ACUTE_ONSET = "ACUTE_ONSET"
    DOMS = "DOMS"
    COLD_FIRST_48H = "COLD_FIRST_48H"
    HEAT_OR_COLD = "HEAT_OR_COLD"
    REST_MIN = "REST_MIN"
    REST_EXIT = "REST_EXIT"
    REST_MAX = "REST_MAX"
    PERSIST_3D = "PERSIST_3D"
    PERSIST_7D = "PERSIST_7D"
    PERSIST_14D = "PERSIST_14D"
    CHRONIC_3M = "CHRONIC_3M"
    RECURRENCE = "RECURRENCE"
    RECURRENCE_REPEAT = "RECURRENCE_REPEAT"
    STAGE_ADVANCE = "STAGE_ADVANCE"
    RETURN_COMPLETE = "RETURN_COMPLETE"
    CLEARANCE = "CLEARANCE"
    MISSED_LOGS = "MISSED_LOGS"
    NON_ADHERENCE = "NON_ADHERENCE"
    LOAD_SPIKE = "LOAD_SPIKE"


RULE_IDS: frozenset[str] = frozenset(rule.value for rule in Rule)

ESCALATION_LEVELS: dict[str, str] = {
    Rule.RED_FLAG_EMERGENCY: Level.EMERGENCY,
    Rule.RED_FLAG_URGENT: Level.URGENT,
    Rule.ACUTE_ONSET: Level.SEE_DOCTOR,
    Rule.REST_MAX: Level.SEE_DOCTOR,
    Rule.PERSIST_3D: Level.ATTENTION,
    Rule.PERSIST_7D: Level.SEE_DOCTOR,
    Rule.PERSIST_14D: Level.SEE_DOCTOR,
    Rule.CHRONIC_3M: Level.ATTENTION,
    Rule.RECURRENCE: Level.ATTENTION,
    Rule.RECURRENCE_REPEAT: Level.SEE_DOCTOR,
    Rule.MISSED_LOGS: Level.ATTENTION,  # at 7 days; the 3-day nudge (info) raises nothing
    Rule.NON_ADHERENCE: Level.INFO,
    Rule.LOAD_SPIKE: Level.ATTENTION,
}
"""The level of the escalation each escalating rule raises ("Levels and who is told")."""


class Category(StrEnum):
    """Activity categories, lowest risk first: the catalogue order of every category list."""

    MOBILITY = "mobility"
    CORE = "core"
    LOW_IMPACT = "low_impact"
    STRENGTH_LIGHT = "strength_light"
    HIGH_IMPACT = "high_impact"
    HEAVY_STRENGTH = "heavy_strength"
    OLYMPIC = "olympic"
    TWISTING = "twisting"
    EXTENSION_YOGA = "extension_yoga"
    PIVOT_SPORT = "pivot_sport"


CATEGORIES: tuple[str, ...] = tuple(category.value for category in Category)
HIGH_RISK_CATEGORIES = frozenset(
    {
        Category.HIGH_IMPACT,
        Category.HEAVY_STRENGTH,
        Category.OLYMPIC,
        Category.TWISTING,
        Category.EXTENSION_YOGA,
        Category.PIVOT_SPORT,
    }
)
CATEGORY_NAMES: dict[str, str] = {
    Category.MOBILITY: "mobility",
    Category.CORE: "core",
    Category.LOW_IMPACT: "low-impact",
    Category.STRENGTH_LIGHT: "light strength",
    Category.HIGH_IMPACT: "high-impact",
    Category.HEAVY_STRENGTH: "heavy strength",
    Category.OLYMPIC: "Olympic lifting",
    Category.TWISTING: "twisting",
    Category.EXTENSION_YOGA: "back-bending yoga",
    Category.PIVOT_SPORT: "pivoting sport",
}
"""How texts name a category to a patient."""


@dataclass(frozen=True, slots=True)
class Activity:
    slug: str
    name: str
    category: str


def _activities(category: Category, *pairs: tuple[str, str]) -> tuple[Activity, ...]:
    return tuple(Activity(slug, name, category) for slug, name in pairs)


ACTIVITIES: tuple[Activity, ...] = (
    *_activities(
        Category.MOBILITY,
        ("stretching", "Stretching"),
        ("knee_to_chest", "Knee-to-chest stretch"),
        ("childs_pose", "Child's pose"),
        ("press_up", "Press-up (prone back extension)"),
        ("pelvic_tilt", "Pelvic tilt"),
        ("foam_rolling", "Foam rolling"),
        ("gentle_yoga", "Gentle yoga"),
    ),
    *_activities(
        Category.CORE,
        ("plank", "Plank"),
        ("bird_dog", "Bird dog"),
        ("bridge", "Bridge"),
        ("dead_bug", "Dead bug"),
        ("exercise_ball", "Exercise ball workout"),
        ("isometric_core", "Isometric core exercises"),
    ),
    *_activities(
        Category.LOW_IMPACT,
        ("walking", "Walking"),
        ("swimming", "Swimming"),
        ("water_therapy", "Water therapy"),
        ("cycling", "Cycling"),
        ("elliptical", "Elliptical trainer"),
    ),
    *_activities(
        Category.STRENGTH_LIGHT,
        ("bodyweight", "Bodyweight exercises"),
        ("resistance_band", "Resistance band"),
        ("machine_strength", "Machine strength training"),
        ("rear_delt_row", "Rear delt row"),
    ),
    *_activities(
        Category.HIGH_IMPACT,
        ("running", "Running"),
        ("plyometrics", "Plyometrics"),
        ("hiit", "HIIT"),
        ("jumping", "Jumping"),
    ),
    *_activities(
        Category.HEAVY_STRENGTH,
        ("deadlift", "Deadlift"),
        ("squat", "Squat"),
        ("kettlebell_swing", "Kettlebell swing"),
    ),
    *_activities(Category.OLYMPIC, ("clean", "Clean"), ("snatch", "Snatch")),
    *_activities(Category.TWISTING, ("russian_twist", "Russian twist"), ("golf", "Golf")),
    *_activities(
        Category.EXTENSION_YOGA,
        ("wheel_pose", "Wheel pose"),
        ("plow_pose", "Plow pose"),
        ("camel_pose", "Camel pose"),
    ),
    *_activities(
        Category.PIVOT_SPORT,
        ("tennis", "Tennis"),
        ("basketball", "Basketball"),
        ("hockey", "Hockey"),
        ("soccer", "Soccer"),
    ),
)
"""The activity catalogue of GUIDELINES.md, every slug it lists, in its order."""

ACTIVITY_CATALOGUE: dict[str, str] = {activity.slug: activity.category for activity in ACTIVITIES}
ACTIVITY_NAMES: dict[str, str] = {activity.slug: activity.name for activity in ACTIVITIES}


Recorded = datetime | float
"""The moment a row was recorded: an aware datetime, or seconds since the Unix epoch (UTC).
Persistence passes seconds, which a database hands back far faster than datetimes."""


@dataclass(frozen=True, slots=True)
class PainEntry:
    id: int
    date: date
    score: int
    region: str
    character: str
    onset: str
    red_flags: frozenset[str]
    recorded: Recorded
    """When the row was recorded: only orders one day's records (GUIDELINES "Order")."""


@dataclass(frozen=True, slots=True)
class Workout:
    id: int
    date: date
    activity: str
    category: str
    """The activity's catalogue category."""
    duration_min: int
    rpe: int
    recorded: Recorded

    @property
    def load(self) -> int:
        """Session load in AU: RPE × minutes (session-RPE, Foster 2001)."""
        return self.rpe * self.duration_min


@dataclass(frozen=True, slots=True)
class Clearance:
    id: int
    cleared_on: date
    recorded: Recorded


@dataclass(frozen=True, slots=True)
class History:
    """A patient's records, in any order: the engine sorts them."""

    pain_entries: tuple[PainEntry, ...] = ()
    workouts: tuple[Workout, ...] = ()
    clearances: tuple[Clearance, ...] = ()
