"""Properties that hold for every valid history (hypothesis)."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recovery.engine import LEVEL_ORDER, evaluate
from recovery.engine.evaluate import _plan, replay
from recovery.engine.guideline import OVERRIDE_BOUNDS, Guideline, guideline_with_overrides
from recovery.engine.inputs import (
    ACTIVITIES,
    RULE_IDS,
    Clearance,
    History,
    PainEntry,
    Workout,
)

CATALOGUE = (
    "mobility", "core", "low_impact", "strength_light", "high_impact", "heavy_strength",
    "olympic", "twisting", "extension_yoga", "pivot_sport",
)  # fmt: skip
HIGH_RISK = {
    "high_impact",
    "heavy_strength",
    "olympic",
    "twisting",
    "extension_yoga",
    "pivot_sport",
}
# The phase table of GUIDELINES.md, written out again here on purpose.
PHASE_TABLE = {
    ("active", None): set(CATALOGUE),
    ("rest", None): {"mobility", "low_impact", "core"},
    ("return", 1): {"mobility", "core", "low_impact"},
    ("return", 2): {"mobility", "core", "low_impact", "strength_light"},
    ("return", 3): set(CATALOGUE),
    ("medical_review", None): {"mobility"},
}

FAST = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BASE = date(2024, 1, 1)
SPAN = 150
ZONES = (UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30)))


RED_FLAGS = (
    "bowel_bladder", "saddle_numbness", "leg_paralysis", "leg_numbness", "leg_weakness",
    "night_pain",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What hypothesis draws: a few numbers. Drawing every field of ~100 records through
    hypothesis costs ~60 ms an example; a seeded builder keeps the suite fast, and a failure
    still replays exactly from the recipe hypothesis prints."""

    seed: int
    base: date
    span: int
    entries: int
    run_start: int
    run_length: int
    workouts: int
    clearances: int
    low_scores: float  # chance a score is 0–2, so patients also get better
    flags: float  # chance an entry has red flags

    def build(self) -> History:
        rng = random.Random(self.seed)
        ident = iter(range(1, 10_000))

        def when(offset: int | None = None) -> date:
            return self.base + timedelta(
                days=rng.randint(0, self.span) if offset is None else offset
            )

        def recorded(on: date) -> datetime:
            later = min(rng.choice((0, 0, 0, 1, 3)), (date.max - on).days)  # back-filled too
            moment = time(rng.randint(0, 23), rng.choice((0, 30)))
            return datetime.combine(on + timedelta(days=later), moment, tzinfo=rng.choice(ZONES))

        def pain(on: date) -> PainEntry:
            flags = (
                frozenset(rng.sample(RED_FLAGS, rng.randint(1, 2)))
                if rng.random() < self.flags
                else frozenset()
            )
            return PainEntry(
                id=next(ident),
                date=on,
                score=rng.randint(0, 2) if rng.random() < self.low_scores else rng.randint(0, 10),
                region=rng.choice(("lower_back", "mid_back", "upper_back", "neck")),
                character=rng.choice(("ache", "stiffness", "sharp", "shooting")),
                onset=rng.choice(("during_exercise", "after_exercise", "delayed", "unrelated")),
                red_flags=flags,
                recorded=recorded(on),
            )

        entries = [pain(when()) for _ in range(self.entries)]
        # A dense run of daily entries makes streaks, rests and returns likely.
        last = min(self.span, self.run_start + self.run_length)
        entries += [pain(when(offset)) for offset in range(min(self.run_start, last), last)]
        workouts = []
        for _ in range(self.workouts):
            on, activity = when(), rng.choice(ACTIVITIES)
            workouts.append(
                Workout(
                    next(ident), on, activity.slug, activity.category, rng.randint(1, 600),
                    rng.randint(0, 10), recorded(on),
                )
            )  # fmt: skip
        clearances = []
        for _ in range(self.clearances):
            on = when()
            clearances.append(Clearance(next(ident), on, recorded(on)))
        return History(tuple(entries), tuple(workouts), tuple(clearances))


def recipes(base: date = BASE, max_span: int = SPAN) -> st.SearchStrategy[Recipe]:
    return st.builds(
        Recipe,
        seed=st.integers(0, 2**32),
        base=st.just(base),
        span=st.integers(0, max_span),
        entries=st.integers(0, 50),
        run_start=st.integers(0, max_span),
        run_length=st.integers(0, 60),
        workouts=st.integers(0, 40),
        clearances=st.integers(0, 3),
        low_scores=st.sampled_from((0.0, 0.5, 0.8)),
        flags=st.sampled_from((0.0, 0.02, 0.1)),
    )


def histories(base: date = BASE, max_span: int = SPAN) -> st.SearchStrategy[History]:
    return recipes(base, max_span).map(Recipe.build)


guidelines = st.one_of(
    st.just(Guideline()),
    st.fixed_dictionaries(
        {},
        optional={
            name: (st.floats(low, high) if isinstance(low, float) else st.integers(low, high))
            for name, (low, high) in OVERRIDE_BOUNDS.items()
        },
    )
    .filter(lambda o: o.get("rest_max_days", 14) >= o.get("rest_min_days", 7))
    .map(guideline_with_overrides),
)
on_dates = st.integers(0, SPAN + 10).map(lambda offset: BASE + timedelta(days=offset))


def _check_invariants(plan) -> None:
    key = (plan.phase, plan.stage)
    assert key in PHASE_TABLE
    allowed = set(plan.allowed_categories)
    assert allowed <= PHASE_TABLE[key]
    assert list(plan.allowed_categories) == [c for c in CATALOGUE if c in allowed]
    if plan.phase == "return" and plan.stage == 3:
        barred = set(plan.episode.trigger_categories)
        assert barred <= HIGH_RISK
        if plan.day_in_stage <= 7:
            assert not allowed & barred
        assert allowed | barred == set(CATALOGUE)
    elif key != ("return", 3):
        assert allowed == PHASE_TABLE[key]
    assert (plan.max_rpe == 3) is (plan.phase == "rest")
    assert plan.max_rpe is None or plan.phase == "rest"
    assert (plan.weekly_load_cap is not None) is (plan.phase == "return")
    assert plan.clearance_required is (plan.phase == "medical_review")
    assert (plan.episode is None) is (plan.phase == "active")
    assert (plan.stage is None) is (plan.phase != "return")
    assert (plan.day_in_stage is None) is (plan.phase != "return")
    if plan.day_in_phase is not None:
        assert plan.day_in_phase >= 1
    if plan.stage is not None:
        assert 1 <= plan.stage <= 3
        assert 1 <= plan.day_in_stage <= plan.day_in_phase
    assert plan.escalation_level in LEVEL_ORDER
    open_levels = [e.level for e in plan.escalations if e.is_open]
    expected = max(open_levels, key=LEVEL_ORDER.index, default="none")
    assert plan.escalation_level == expected
    keys = [(e.rule, e.anchor) for e in plan.escalations]
    assert len(keys) == len(set(keys))
    for escalation in plan.escalations:
        assert escalation.rule in RULE_IDS
        assert escalation.anchor_date <= escalation.raised_on <= plan.date
        assert escalation.is_open is (escalation.closed_on is None)
        if escalation.closed_on is not None:
            assert escalation.raised_on <= escalation.closed_on <= plan.date
    for item in (*plan.advice, *plan.reasons):
        assert item.rule in RULE_IDS
        assert item.text
    for escalation in plan.escalations:
        if escalation.is_open:
            assert escalation.rule in {item.rule for item in plan.reasons}


@FAST
@given(histories(), on_dates, guidelines)
def test_same_history_same_plan_and_invariants_hold(history, on, guideline) -> None:
    plan = evaluate(history, on, guideline)
    assert evaluate(history, on, guideline) == plan
    _check_invariants(plan)


@FAST
@given(histories(), on_dates, st.randoms(use_true_random=False))
def test_the_order_of_the_input_tuples_does_not_matter(history, on, rnd) -> None:
    shuffled = [list(history.pain_entries), list(history.workouts), list(history.clearances)]
    for records in shuffled:
        rnd.shuffle(records)
    reordered = History(*(tuple(records) for records in shuffled))
    assert evaluate(reordered, on) == evaluate(history, on)


@FAST
@given(histories(), on_dates, st.integers(1, 40))
def test_data_dated_after_a_day_never_changes_that_days_plan(history, on, ahead) -> None:
    def until(last: date) -> History:
        return History(
            tuple(e for e in history.pain_entries if e.date <= last),
            tuple(w for w in history.workouts if w.date <= last),
            tuple(c for c in history.clearances if c.cleared_on <= last),
        )

    plan = evaluate(until(on), on)
    assert evaluate(history, on) == plan
    # The later plan's replay went through this day: it raised the same escalations by then.
    later = evaluate(history, on + timedelta(days=ahead))
    raised_by_then = [
        (e.rule, e.anchor, e.level, e.raised_on) for e in later.escalations if e.raised_on <= on
    ]
    assert raised_by_then == [(e.rule, e.anchor, e.level, e.raised_on) for e in plan.escalations]


@FAST
@given(histories(), on_dates, guidelines)
def test_jumping_over_quiet_days_changes_nothing(history, on, guideline) -> None:
    day = on.toordinal()
    full = _plan(replay(history, day, guideline, fast_forward=False), day)
    assert full == evaluate(history, on, guideline)


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.sampled_from([date.min, date(1, 1, 3), date(9999, 12, 20), date.max - timedelta(days=1)]),
    st.data(),
)
def test_evaluate_never_raises_at_the_ends_of_the_calendar(edge, data) -> None:
    base = edge if edge.year == 1 else edge - timedelta(days=10)
    span = min(20, (date.max - base).days)
    history = data.draw(histories(base, span))
    on = base + timedelta(days=data.draw(st.integers(0, span)))
    _check_invariants(evaluate(history, on))


def test_a_history_spanning_millennia_replays_quickly_and_correctly() -> None:
    # Quiet stretches (here almost ten thousand years) are jumped over, not replayed day by day.
    noon = datetime(2000, 1, 1, 12, tzinfo=UTC)

    def pain(ident: int, when: date, score: int, character: str = "ache") -> PainEntry:
        return PainEntry(
            ident, when, score, "neck", character, "during_exercise", frozenset(), noon
        )

    history = History(
        pain_entries=(
            pain(1, date(1, 1, 1), 8, "sharp"),
            pain(2, date(1, 1, 3), 1),
            pain(3, date(1, 1, 4), 1),
            pain(4, date(9999, 12, 30), 2),
        ),
        workouts=(Workout(1, date(5000, 6, 1), "running", "high_impact", 60, 7, noon),),
        clearances=(Clearance(1, date(1, 2, 1), noon),),
    )
    # No REST_EXIT (the latest logs are too old by rest day 7), so REST_MAX on rest day 15.
    assert evaluate(history, date(1, 1, 15)).phase == "medical_review"
    # The clearance starts a 42-day return; it completes on 15 March of year 1.
    assert evaluate(history, date(1, 3, 15)).phase == "active"
    plan = evaluate(history, date.max)
    assert (plan.phase, plan.first_data_date) == ("active", date.min)
    assert plan.day_in_phase == (date.max - date(1, 3, 15)).days + 1
    assert [(e.rule, e.anchor_date) for e in plan.escalations] == [
        ("ACUTE_ONSET", date(1, 1, 1)),
        ("MISSED_LOGS", date(1, 1, 4)),
        ("REST_MAX", date(1, 1, 1)),
    ]
    assert plan.escalations[1].closed_on == date(9999, 12, 30)  # the next entry
    assert plan.acwr is None  # thousands of years of decay leave nothing to compare
    _check_invariants(plan)


def test_plans_are_plain_values() -> None:
    plan = evaluate(History(), BASE)
    assert dataclasses.is_dataclass(plan)
    assert plan.phase == "active"
    assert plan.day_in_phase is None
    assert type(plan.phase) is str
    assert type(plan.escalation_level) is str


def test_recorded_as_epoch_seconds_orders_records_like_datetimes() -> None:
    """Persistence passes `recorded` as seconds since the epoch; the plan must not change."""
    day = date(2026, 3, 2)
    noon = datetime(2026, 3, 2, 12, tzinfo=UTC)
    red_flag = PainEntry(1, day, 5, "neck", "ache", "unrelated", frozenset({"night_pain"}), noon)
    # The clearance is recorded after the red flag, so it clears it.
    clearance = Clearance(2, day, noon + timedelta(microseconds=1))
    as_datetimes = History(pain_entries=(red_flag,), clearances=(clearance,))
    as_seconds = History(
        pain_entries=(dataclasses.replace(red_flag, recorded=red_flag.recorded.timestamp()),),
        clearances=(dataclasses.replace(clearance, recorded=clearance.recorded.timestamp()),),
    )
    plan = evaluate(as_datetimes, day)
    assert (plan.phase, plan.stage) == ("return", 1)
    assert evaluate(as_seconds, day) == plan
