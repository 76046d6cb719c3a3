"""The replay's working memory: the history indexed by day, and the state carried between days.

Days are proleptic ordinals (`date.toordinal()`), so the arithmetic never leaves the integers
and never overflows near `date.min` or `date.max`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime

from recovery.engine.guideline import Guideline
from recovery.engine.inputs import (
    CATEGORIES,
    ESCALATION_LEVELS,
    HIGH_RISK_CATEGORIES,
    Category,
    Clearance,
    History,
    PainEntry,
    Phase,
    Workout,
)

# Phases as plain strings: the replay compares them every day, and an enum lookup costs more.
ACTIVE: str = Phase.ACTIVE.value
REST: str = Phase.REST.value
RETURN: str = Phase.RETURN.value
REVIEW: str = Phase.MEDICAL_REVIEW.value

# When an open escalation closes ("Open escalations").
CLOSE_STREAK = "streak"  # PERSIST_*: the streak ends
CLOSE_CLEARANCE = "clearance"  # red flags, REST_MAX, RECURRENCE_REPEAT
CLOSE_REST = "rest"  # ACUTE_ONSET: the rest phase ends
CLOSE_NEXT_ENTRY = "next_entry"  # MISSED_LOGS
CLOSE_EPISODE = "episode"  # RECURRENCE
CLOSE_TIMED = "timed"  # LOAD_SPIKE, NON_ADHERENCE, CHRONIC_3M: a fixed number of days

# Kinds of record, ranked for ties of `recorded`: a clearance recorded at the very instant of
# a red flag is taken as recorded before it, so it does not clear it (the safer reading).
KIND_CLEARANCE = 0
KIND_WORKOUT = 1
KIND_ENTRY = 2

Event = tuple[int, PainEntry | Workout | Clearance]

REST_CATEGORIES = (Category.MOBILITY, Category.CORE, Category.LOW_IMPACT)
RPE_LIMITED_CATEGORIES = frozenset({Category.CORE, Category.LOW_IMPACT})
_STAGE_CATEGORIES = {
    1: REST_CATEGORIES,
    2: (*REST_CATEGORIES, Category.STRENGTH_LIGHT),
    3: CATEGORIES,
}


@functools.cache
def allowed_categories(
    phase: str, stage: int | None, barred: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The phase table of GUIDELINES.md; `barred` are the trigger categories, in stage 3 only."""
    if phase == REST:
        allowed = REST_CATEGORIES
    elif phase == REVIEW:
        allowed = (Category.MOBILITY,)
    elif phase == RETURN:
        allowed = _STAGE_CATEGORIES.get(stage or 1, REST_CATEGORIES)
        if stage == 3 and barred:
            allowed = tuple(category for category in allowed if category not in barred)
    else:
        allowed = CATEGORIES
    return tuple(str(category) for category in allowed if category in CATEGORIES)


def day_key(day: int) -> str:
    return f"date:{date.fromordinal(day).isoformat()}"


def _event_key(event: Event) -> tuple[float, int, int]:
    """Recorded order within a day; ties by kind, then id."""
    kind, record = event
    recorded = record.recorded
    if isinstance(recorded, datetime):
        if recorded.utcoffset() is None:
            # A naive value (never valid input) is read as UTC rather than crash the sort.
            recorded = recorded.replace(tzinfo=UTC)
        recorded = recorded.timestamp()
    return recorded, kind, record.id


@dataclass(frozen=True, slots=True)
class LookBack:
    """What a resumed replay needs of the days before it starts: the rules look back at most
    `lookback_days(g)` days (the weekly-load baseline, DOMS, trigger categories)."""

    first: int
    loads: dict[int, int]
    workout_counts: dict[int, int]
    categories: dict[int, frozenset[str]]


def lookback_days(g: Guideline) -> int:
    return max(g.baseline_days, g.doms_max_days_after, 1) + 1


class DayIndex:
    """The history up to the plan's date, bucketed by day once so the replay never scans it.

    A resumed replay indexes only the records dated after `after`, on top of a `LookBack`
    of the days before.
    """

    __slots__ = (
        "events",
        "scores",
        "loads",
        "workout_counts",
        "categories",
        "event_days",
        "first",
    )

    def __init__(
        self, history: History, last: int, *, after: int = 0, carried: LookBack | None = None
    ) -> None:
        buckets: dict[int, list[Event]] = {}
        self.scores: dict[int, int] = {}
        self.loads: dict[int, int] = dict(carried.loads) if carried else {}
        self.workout_counts: dict[int, int] = dict(carried.workout_counts) if carried else {}
        self.categories: dict[int, set[str]] = (
            {day: set(seen) for day, seen in carried.categories.items()} if carried else {}
        )
        scores, loads, counts, categories = (
            self.scores, self.loads, self.workout_counts, self.categories
        )  # fmt: skip
        for entry in history.pain_entries:
            day = entry.date.toordinal()
            if after < day <= last:
                buckets.setdefault(day, []).append((KIND_ENTRY, entry))
                if entry.score > scores.get(day, -1):
                    scores[day] = entry.score
        for workout in history.workouts:
            day = workout.date.toordinal()
            if after < day <= last:
                buckets.setdefault(day, []).append((KIND_WORKOUT, workout))
                loads[day] = loads.get(day, 0) + workout.rpe * workout.duration_min
                counts[day] = counts.get(day, 0) + 1
                categories.setdefault(day, set()).add(workout.category)
        for clearance in history.clearances:
            day = clearance.cleared_on.toordinal()
            if after < day <= last:
                buckets.setdefault(day, []).append((KIND_CLEARANCE, clearance))
        for bucket in buckets.values():
            if len(bucket) > 1:
                bucket.sort(key=_event_key)
        self.events = buckets
        self.event_days: list[int] = sorted(buckets)
        self.first: int | None = (
            carried.first if carried else self.event_days[0] if self.event_days else None
        )

    def look_back(self, day: int, g: Guideline) -> LookBack | None:
        """The part of this index a replay resuming after `day` needs (None before any data)."""
        if self.first is None or self.first > day:
            return None
        since = day - lookback_days(g)
        return LookBack(
            first=self.first,
            loads={d: load for d, load in self.loads.items() if since < d <= day},
            workout_counts={d: n for d, n in self.workout_counts.items() if since < d <= day},
            categories={
                d: frozenset(seen) for d, seen in self.categories.items() if since < d <= day
            },
        )

    def trigger_categories(self, start: int) -> tuple[str, ...]:
        """High-risk categories of the workouts dated `start` or the day before (whenever
        they were recorded)."""
        seen = self.categories.get(start - 1, set()) | self.categories.get(start, set())
        return tuple(c for c in CATEGORIES if c in seen and c in HIGH_RISK_CATEGORIES)

    def baseline(self, start: int, g: Guideline) -> float:
        """Mean weekly session load of the `baseline_days` before `start`, or the default."""
        total = count = 0
        for day in range(start - g.baseline_days, start):
            if day in self.loads:
                total += self.loads[day]
                count += self.workout_counts[day]
        if count < g.baseline_min_workouts:
            return float(g.default_weekly_load)
        return total * 7 / g.baseline_days


@dataclass(slots=True)
class Raised:
    """One escalation as the replay raised it; `closed_day` is set once it closes."""

    rule: str
    level: str
    anchor: str
    anchor_day: int
    raised_day: int
    closed_day: int | None = None
    detail: str = ""  # for texts: e.g. the workout's activity

    def open_on(self, day: int) -> bool:
        return self.raised_day <= day and (self.closed_day is None or self.closed_day > day)


class State:
    """Where the patient stands at the end of the day being replayed."""

    __slots__ = (
        "g",
        "index",
        "phase",
        "phase_start",
        "phase_rule",
        "phase_anchor",
        "stage",
        "stage_start",
        "stage_rule",
        "segment_start",
        "episode_start",
        "episode_rule",
        "episode_triggers",
        "baseline",
        "flares",
        "rest_min",
        "rest_min_since",
        "flare_stage",
        "review_start",
        "raised",
        "open_by",
        "last_log",
        "last_score",
        "prev_log",
        "prev_score",
        "streak_start",
        "last_pain",
        "chronic_runs",
        "last_chronic",
        "first_workout",
        "acute_base",
        "chronic_base",
        "load_base_day",
        "doms_day",
    )

    def __init__(self, g: Guideline, index: DayIndex) -> None:
        self.g = g
        self.index = index
        self.phase: str = ACTIVE
        self.phase_start: int | None = index.first  # day 1 of `active` is the first data date
        self.phase_rule: str | None = None
        self.phase_anchor: int | None = None  # the day the phase's rule refers to
        self.stage: int | None = None
        self.stage_start: int | None = None
        self.stage_rule: str | None = None
        self.segment_start: int | None = None
        self.episode_start: int | None = None
        self.episode_rule: str | None = None
        self.episode_triggers: tuple[str, ...] = ()
        self.baseline: float | None = None  # the weekly load cap's baseline, fixed at day 1
        self.flares = 0
        self.rest_min = g.rest_min_days
        self.rest_min_since: int | None = None  # a new injury in the rest that lengthened it
        self.flare_stage = 1
        self.review_start: int | None = None
        self.raised: dict[tuple[str, str], Raised] = {}
        self.open_by: dict[str, list[Raised]] = {
            kind: []
            for kind in (CLOSE_STREAK, CLOSE_CLEARANCE, CLOSE_REST, CLOSE_NEXT_ENTRY, CLOSE_EPISODE)
        }
        # Logged days: the two latest, and the pain-day chain ending at the latest.
        self.last_log: int | None = None
        self.last_score = 0
        self.prev_log: int | None = None
        self.prev_score = 0
        self.streak_start: int | None = None  # None unless the latest logged day is a pain day
        self.last_pain: int | None = None
        # CHRONIC_3M: runs[d % W] = how many consecutive W-day windows ending d, d−W, … hold a
        # pain day; before any day is replayed every run is 0.
        self.chronic_runs = [0] * max(1, g.chronic_window_days)
        self.last_chronic: int | None = None
        # Exponentially weighted daily load, stored as its value on the latest workout day
        # (between workouts it only decays, so any later day's value is one power away).
        self.first_workout: int | None = None
        self.acute_base = 0.0
        self.chronic_base = 0.0
        self.load_base_day = 0
        self.doms_day: int | None = None

    # --- checkpoints ---------------------------------------------------------------------

    def export(self) -> dict[str, object]:
        """The state as JSON-compatible values, copied (the replay goes on changing it).

        The guideline and the index are not part of it: a resumed replay brings its own.
        """
        raised = list(self.raised.values())
        position = {id(item): number for number, item in enumerate(raised)}
        data: dict[str, object] = {name: getattr(self, name) for name in _PLAIN_SLOTS}
        data["episode_triggers"] = list(self.episode_triggers)
        data["chronic_runs"] = list(self.chronic_runs)
        data["raised"] = [
            [r.rule, r.level, r.anchor, r.anchor_day, r.raised_day, r.closed_day, r.detail]
            for r in raised
        ]
        # An open escalation is in `raised` and in one `open_by` list: stored once, by position.
        data["open_by"] = {
            kind: [position[id(item)] for item in items] for kind, items in self.open_by.items()
        }
        return data

    @classmethod
    def restore(cls, g: Guideline, index: DayIndex, data: dict) -> State:
        """The state `export` wrote, on a new index."""
        st = cls(g, index)
        for name in _PLAIN_SLOTS:
            setattr(st, name, data[name])
        st.episode_triggers = tuple(data["episode_triggers"])
        st.chronic_runs = list(data["chronic_runs"])
        raised = [Raised(*fields) for fields in data["raised"]]
        st.raised = {(item.rule, item.anchor): item for item in raised}
        st.open_by = {
            kind: [raised[number] for number in positions]
            for kind, positions in data["open_by"].items()
        }
        return st

    # --- escalations -------------------------------------------------------------------

    def raise_escalation(
        self, rule: str, anchor: str, anchor_day: int, day: int, closes: str, detail: str = ""
    ) -> bool:
        """Raise (rule, anchor) unless it was raised before. True when it is new: a rule's
        phase effect, like its escalation, happens once per anchor."""
        key = (rule, anchor)
        if key in self.raised:
            return False
        raised = Raised(
            str(rule), str(ESCALATION_LEVELS[rule]), anchor, anchor_day, day, detail=detail
        )
        if closes == CLOSE_TIMED:
            raised.closed_day = day + self.g.escalation_open_days
        else:
            self.open_by[closes].append(raised)
        self.raised[key] = raised
        return True

    def close(self, kind: str, day: int) -> None:
        for raised in self.open_by[kind]:
            raised.closed_day = day
        self.open_by[kind] = []

    # --- phase transitions -------------------------------------------------------------

    def open_episode(self, rule: str, day: int) -> None:
        self.episode_start = day
        self.episode_rule = rule
        self.episode_triggers = self.index.trigger_categories(day)
        self.baseline = self.index.baseline(day, self.g)
        self.flares = 0

    def _begin(self, phase: str, rule: str, day: int) -> None:
        if self.phase == REST and phase != REST:
            self.close(CLOSE_REST, day)
        self.phase = phase
        self.phase_start = day
        self.phase_rule = rule
        self.phase_anchor = day
        self.stage = self.stage_start = self.stage_rule = None

    def enter_rest(self, rule: str, day: int, *, after_flare: bool) -> None:
        self.flare_stage = self.stage or 1
        self._begin(REST, rule, day)
        self.rest_min = self.g.rest_after_flare_days if after_flare else self.g.rest_min_days
        self.rest_min_since = None

    def enter_review(self, rule: str, day: int) -> None:
        self._begin(REVIEW, rule, day)
        self.review_start = day

    def enter_return(self, rule: str, day: int, stage: int) -> None:
        self._begin(RETURN, rule, day)
        self.stage = stage
        self.stage_start = day
        self.stage_rule = rule
        self.segment_start = day

    def advance_stage(self, rule: str, day: int) -> None:
        self.stage = (self.stage or 0) + 1
        self.stage_start = day
        self.stage_rule = rule

    def close_episode(self, rule: str, day: int) -> None:
        self._begin(ACTIVE, rule, day)
        self.close(CLOSE_EPISODE, day)
        self.episode_start = self.episode_rule = self.baseline = None
        self.episode_triggers = ()
        self.segment_start = None
        self.flares = 0

    # --- derived values ------------------------------------------------------------------

    def streak_on(self, day: int) -> tuple[int, int] | None:
        """The current pain streak on `day` as (first day, latest logged day), or None."""
        if self.streak_start is None or self.last_log is None or self.last_log < day - 1:
            return None
        return self.streak_start, self.last_log

    def loads_on(self, day: int) -> tuple[float, float] | None:
        """(acute, chronic) exponentially weighted daily load on `day`; None before a workout."""
        if self.first_workout is None:
            return None
        gap = day - self.load_base_day
        if gap == 0:
            return self.acute_base, self.chronic_base
        g = self.g
        acute_decay = (g.acute_load_days - 1) / (g.acute_load_days + 1)
        chronic_decay = (g.chronic_load_days - 1) / (g.chronic_load_days + 1)
        return self.acute_base * acute_decay**gap, self.chronic_base * chronic_decay**gap

    def add_load(self, day: int, load: int) -> None:
        g = self.g
        if self.first_workout is None:
            # Both averages start at the first workout day's load.
            self.first_workout = self.load_base_day = day
            self.acute_base = self.chronic_base = float(load)
            return
        acute, chronic = self.loads_on(day - 1) or (0.0, 0.0)
        acute_weight = 2 / (g.acute_load_days + 1)
        chronic_weight = 2 / (g.chronic_load_days + 1)
        self.acute_base = acute_weight * load + (1 - acute_weight) * acute
        self.chronic_base = chronic_weight * load + (1 - chronic_weight) * chronic
        self.load_base_day = day

    def allowed_at_end_of(self, day: int) -> tuple[str, ...]:
        """The categories the plan allowed at the end of `day` (this state's day)."""
        return allowed_categories(self.phase, self.stage, self.barred_on(day))

    def barred_on(self, day: int) -> tuple[str, ...]:
        """Trigger categories barred on `day`: stage 3's days 1…trigger_days."""
        if self.phase != RETURN or self.stage != 3 or self.stage_start is None:
            return ()
        if day - self.stage_start + 1 > self.g.trigger_days:
            return ()
        return self.episode_triggers


# The State slots `export` copies as they are (ints, strings, floats and None).
_PLAIN_SLOTS = tuple(
    name
    for name in State.__slots__
    if name not in {"g", "index", "raised", "open_by", "episode_triggers", "chronic_runs"}
)
