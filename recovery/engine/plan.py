"""What the engine returns: a plan for one date, with the escalations its history raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Item:
    """One line of advice or one reason. `rule` is always a rule ID of GUIDELINES.md."""

    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class Episode:
    start: date
    trigger_rule: str
    trigger_categories: tuple[str, ...]
    """High-risk categories among the workouts dated `start` or the day before."""
    flare_count: int
    """RECURRENCE and RECURRENCE_REPEAT so far in this episode."""


@dataclass(frozen=True, slots=True)
class RaisedEscalation:
    """An escalation the replay raised. (`rule`, `anchor`) is unique per patient."""

    rule: str
    level: str
    anchor: str
    """"entry:<id>", "workout:<id>" or "date:<YYYY-MM-DD>"."""
    anchor_date: date
    raised_on: date
    is_open: bool
    """Still open at the end of the plan's date."""
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class Override:
    """A guideline value that differs from the GUIDELINES.md default."""

    name: str
    value: int | float
    default: int | float


@dataclass(frozen=True, slots=True)
class Plan:
    date: date
    phase: str
    stage: int | None
    day_in_phase: int | None
    """1 on the day the phase began; None before the first data date."""
    day_in_stage: int | None
    episode: Episode | None
    allowed_categories: tuple[str, ...]
    """Category slugs, in catalogue order."""
    max_rpe: int | None
    """Only in rest: the highest RPE for low_impact and core."""
    weekly_load_cap: float | None
    """Only in return, in AU (RPE × minutes summed over a week)."""
    acute_load: float | None
    chronic_load: float | None
    acwr: float | None
    escalation_level: str
    clearance_required: bool
    advice: tuple[Item, ...]
    reasons: tuple[Item, ...]
    escalations: tuple[RaisedEscalation, ...]
    """Every escalation raised on or before `date`, in the order the replay raised them."""
    last_log_date: date | None
    first_data_date: date | None
    overrides: tuple[Override, ...]
