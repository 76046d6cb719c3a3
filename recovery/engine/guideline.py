"""Every number of GUIDELINES.md, and the validated way a therapist overrides some of them."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

RETURN_STAGES = 3
"""The return phase has stages 1–3; the phase table gives each its own meaning, so it is fixed."""


@dataclass(frozen=True, slots=True)
class Guideline:
    """The defaults of GUIDELINES.md. Field names are the ones the document uses where it names
    them; the others are named after the rule that uses them."""

    # Rest (REST_MIN, REST_EXIT, REST_MAX)
    rest_min_days: int = 7
    rest_after_flare_days: int = 3
    rest_max_days: int = 14
    improved_max: int = 2
    exit_logged_days: int = 2  # "the two latest logged days …"
    exit_window_days: int = 2  # "… both lie within D−2…D"
    cold_days: int = 2  # COLD_FIRST_48H: rest days 1–2; HEAT_OR_COLD from day 3
    max_rpe: int = 3  # rest allows low_impact and core at RPE ≤ 3

    # Return (STAGE_ADVANCE, RETURN_COMPLETE, weekly load cap, trigger categories)
    stage_days: int = 14
    trigger_days: int = 7  # trigger categories are barred on stage 3's days 1–7
    weekly_increase: float = 0.10
    cap_start_fraction: float = 0.5
    default_weekly_load: int = 1000
    baseline_days: int = 28
    baseline_min_workouts: int = 2

    # Pain entries (red flags, ACUTE_ONSET, DOMS, RECURRENCE)
    emergency_min_score: int = 9
    acute_min_score: int = 7
    doms_max_score: int = 6
    doms_min_days_after: int = 1
    doms_max_days_after: int = 3
    flare_min: int = 4

    # Pain streaks (PERSIST_*) and CHRONIC_3M
    pain_day_min: int = 3
    persist_prompt_days: int = 4  # PERSIST_3D: a streak of ≥ 4 days
    persist_doctor_days: int = 8  # PERSIST_7D: ≥ 8 days
    persist_review_days: int = 15  # PERSIST_14D: ≥ 15 days
    chronic_windows: int = 13
    chronic_window_days: int = 7
    chronic_repeat_days: int = 91  # at most once in any 91 days

    # MISSED_LOGS
    missed_nudge_days: int = 3
    missed_escalation_days: int = 7

    # Load (LOAD_SPIKE)
    acute_load_days: int = 7
    chronic_load_days: int = 28
    load_spike_ratio: float = 1.5
    load_spike_history_days: int = 21

    # LOAD_SPIKE, NON_ADHERENCE and CHRONIC_3M close this many days after they are raised.
    escalation_open_days: int = 7


DEFAULT_GUIDELINE = Guideline()

OVERRIDE_BOUNDS: dict[str, tuple[int | float, int | float]] = {
    "rest_min_days": (3, 14),
    "rest_max_days": (7, 28),
    "stage_days": (7, 28),
    "weekly_increase": (0.05, 0.20),
    "flare_min": (3, 7),
    "pain_day_min": (2, 5),
    "improved_max": (1, 3),
    "rest_after_flare_days": (1, 7),
}
"""The numbers a linked therapist may override per patient, with their inclusive bounds."""


class GuidelineError(ValueError):
    """Invalid overrides. `errors` maps each bad name to a message naming its bound."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


def _clean(name: str, value: object) -> tuple[int | float | None, str | None]:
    """The value converted to the field's type, or an error message."""
    low, high = OVERRIDE_BOUNDS[name]
    whole = isinstance(getattr(DEFAULT_GUIDELINE, name), int)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        return None, "must be a number"
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float is far outside every bound
        return None, f"must be between {low:g} and {high:g}"
    if not math.isfinite(number):
        return None, "must be a finite number"
    if whole and not number.is_integer():
        # Persistence may hand back 7.0 for 7 (a float column): whole values are accepted.
        return None, "must be a whole number"
    if not low <= number <= high:
        return None, f"must be between {low:g} and {high:g}"
    return (int(number) if whole else number), None


def guideline_with_overrides(
    overrides: Mapping[str, int | float], base: Guideline = DEFAULT_GUIDELINE
) -> Guideline:
    """`base` with `overrides` applied, after checking every one of them.

    Raises GuidelineError listing every problem: an unknown or non-overridable name, a value
    that is not a number (or not whole, for day counts and scores), a value outside
    OVERRIDE_BOUNDS, and a resulting `rest_max_days` below the resulting `rest_min_days`.
    """
    errors: dict[str, str] = {}
    clean: dict[str, int | float] = {}
    for name, value in overrides.items():
        if name not in OVERRIDE_BOUNDS:
            errors[str(name)] = (
                "is not a guideline value a therapist can override (one of: {})".format(
                    ", ".join(OVERRIDE_BOUNDS)
                )
            )
            continue
        number, error = _clean(name, value)
        if error is not None:
            errors[name] = error
        elif number is not None:
            clean[name] = number
    result = dataclasses.replace(base, **clean)
    if result.rest_max_days < result.rest_min_days:
        name = "rest_max_days" if "rest_max_days" in clean else "rest_min_days"
        errors.setdefault(
            name,
            f"rest_max_days ({result.rest_max_days}) must be at least rest_min_days "
            f"({result.rest_min_days})",
        )
    if errors:
        raise GuidelineError(errors)
    return result
