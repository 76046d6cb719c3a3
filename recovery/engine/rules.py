"""One function per rule ID of GUIDELINES.md, each acting on the replay state for one day.

Entry rules run for every pain entry in the order the day's records were recorded, in the
table's order (`ENTRY_RULES`), each seeing the state the previous one left. Time rules run
once per day after the day's records, in the order of GUIDELINES "Order" (`evaluate.py`).
The advice-only rules (COLD_FIRST_48H, HEAT_OR_COLD, REST_MIN, the MISSED_LOGS nudge) change
no state: `texts.py` words them for the plan's date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from recovery.engine.guideline import RETURN_STAGES, Guideline
from recovery.engine.inputs import (
    ACTIVITY_NAMES,
    EMERGENCY_FLAGS,
    EXERCISE_ONSETS,
    SHARP_CHARACTERS,
    SORE_CHARACTERS,
    URGENT_FLAGS,
    Clearance,
    Onset,
    PainEntry,
    Rule,
    Workout,
)
from recovery.engine.state import (
    ACTIVE,
    CLOSE_CLEARANCE,
    CLOSE_EPISODE,
    CLOSE_NEXT_ENTRY,
    CLOSE_REST,
    CLOSE_STREAK,
    CLOSE_TIMED,
    REST,
    RETURN,
    REVIEW,
    RPE_LIMITED_CATEGORIES,
    State,
    day_key,
)

# --- predicates ------------------------------------------------------------------------------


def is_emergency(entry: PainEntry, g: Guideline) -> bool:
    return not EMERGENCY_FLAGS.isdisjoint(entry.red_flags) or (
        entry.score >= g.emergency_min_score and entry.character in SHARP_CHARACTERS
    )


def is_urgent(entry: PainEntry) -> bool:
    return not URGENT_FLAGS.isdisjoint(entry.red_flags)


def is_exercise_related(entry: PainEntry) -> bool:
    return entry.onset in EXERCISE_ONSETS


def is_acute(entry: PainEntry, g: Guideline) -> bool:
    return is_exercise_related(entry) and (
        entry.character in SHARP_CHARACTERS or entry.score >= g.acute_min_score
    )


def is_flare(entry: PainEntry, g: Guideline) -> bool:
    return entry.score >= g.flare_min or (
        is_exercise_related(entry) and entry.character in SHARP_CHARACTERS
    )


def is_doms_like(entry: PainEntry, g: Guideline) -> bool:
    """DOMS without its workout condition."""
    return (
        entry.character in SORE_CHARACTERS
        and entry.onset == Onset.DELAYED
        and entry.score <= g.doms_max_score
        and not entry.red_flags
    )


def entry_key(entry: PainEntry) -> str:
    return f"entry:{entry.id}"


# --- entry rules -----------------------------------------------------------------------------


def _red_flag(st: State, entry: PainEntry, day: int, rule: Rule) -> None:
    # A new red flag while already in review raises its escalation but does not restart it.
    if not st.raise_escalation(rule, entry_key(entry), day, day, CLOSE_CLEARANCE):
        return
    if st.episode_start is None:
        st.open_episode(rule, day)
        st.enter_review(rule, day)
    elif st.phase != REVIEW:
        st.enter_review(rule, day)


def red_flag_emergency(st: State, entry: PainEntry, day: int) -> None:
    if is_emergency(entry, st.g):
        _red_flag(st, entry, day, Rule.RED_FLAG_EMERGENCY)


def red_flag_urgent(st: State, entry: PainEntry, day: int) -> None:
    if is_urgent(entry):
        _red_flag(st, entry, day, Rule.RED_FLAG_URGENT)


def acute_onset(st: State, entry: PainEntry, day: int) -> None:
    if st.episode_start is not None or not is_acute(entry, st.g):
        return
    if st.raise_escalation(Rule.ACUTE_ONSET, day_key(day), day, day, CLOSE_REST):
        st.open_episode(Rule.ACUTE_ONSET, day)
        st.enter_rest(Rule.ACUTE_ONSET, day, after_flare=False)


def acute_in_rest(st: State, entry: PainEntry, day: int) -> None:
    """ACUTE_ONSET's injury on a later day of a rest: the rest minimum counts again from it.

    GUIDELINES.md gives it no effect (ACUTE_ONSET acts outside an episode, RECURRENCE in a
    return); the safer reading keeps the patient resting for a full minimum after the new
    injury. REST_MAX still counts from the rest's first day, so the review is never later.
    """
    if st.phase != REST or st.phase_start is None or day <= st.phase_start:
        return
    if not is_acute(entry, st.g):
        return
    needed = day - st.phase_start + st.g.rest_min_days  # a rest day count, day 1 the first
    if needed > st.rest_min:
        st.rest_min = needed
        st.rest_min_since = day


def doms(st: State, entry: PainEntry, day: int) -> None:
    """Advice only, in any phase: remembered for the day's plan."""
    g = st.g
    if is_doms_like(entry, g) and any(
        day - back in st.index.loads
        for back in range(g.doms_min_days_after, g.doms_max_days_after + 1)
    ):
        st.doms_day = day


def recurrence(st: State, entry: PainEntry, day: int) -> None:
    if st.phase != RETURN or st.flares > 0 or not is_flare(entry, st.g):
        return
    if st.raise_escalation(Rule.RECURRENCE, entry_key(entry), day, day, CLOSE_EPISODE):
        st.flares += 1
        st.enter_rest(Rule.RECURRENCE, day, after_flare=True)


def recurrence_repeat(st: State, entry: PainEntry, day: int) -> None:
    if st.phase != RETURN or st.flares == 0 or not is_flare(entry, st.g):
        return
    if st.raise_escalation(Rule.RECURRENCE_REPEAT, entry_key(entry), day, day, CLOSE_CLEARANCE):
        st.flares += 1
        st.enter_review(Rule.RECURRENCE_REPEAT, day)


ENTRY_RULES: tuple[Callable[[State, PainEntry, int], None], ...] = (
    red_flag_emergency,
    red_flag_urgent,
    acute_onset,
    acute_in_rest,
    doms,
    recurrence,
    recurrence_repeat,
)


def clearance(st: State, record: Clearance, day: int) -> None:
    """Outside medical_review a clearance changes nothing."""
    if st.phase != REVIEW or st.review_start is None or day < st.review_start:
        return
    st.close(CLOSE_CLEARANCE, day)
    st.enter_return(Rule.CLEARANCE, day, 1)


def log_day(st: State, day: int, score: int) -> None:
    """A logged day: the next entry closes MISSED_LOGS; the streak and the latest two logs move."""
    st.close(CLOSE_NEXT_ENTRY, day)
    if score >= st.g.pain_day_min:
        # The chain goes on if the previous logged day was a pain day at most one unlogged
        # day before this one.
        if st.streak_start is None or st.last_log is None or st.last_log < day - 2:
            st.streak_start = day
        st.last_pain = day
    else:
        st.streak_start = None
    st.prev_log, st.prev_score = st.last_log, st.last_score
    st.last_log, st.last_score = day, score


# --- time rules ------------------------------------------------------------------------------


def rest_exit(st: State, day: int) -> bool:
    g = st.g
    start = st.phase_start
    if st.phase != REST or start is None:
        return False
    if day - start + 1 < st.rest_min:
        return False
    if st.prev_log is None or st.prev_log < start or st.prev_log < day - g.exit_window_days:
        return False
    if st.last_score > g.improved_max or st.prev_score > g.improved_max:
        return False
    after_flare = st.phase_rule == Rule.RECURRENCE
    stage = max(1, st.flare_stage - 1) if after_flare else 1
    st.enter_return(Rule.REST_EXIT, day, stage)
    return True


def rest_max(st: State, day: int) -> None:
    if st.phase != REST or st.phase_start is None:
        return
    if day - st.phase_start + 1 <= st.g.rest_max_days:
        return
    start = st.phase_start
    if st.raise_escalation(Rule.REST_MAX, day_key(start), start, day, CLOSE_CLEARANCE):
        st.enter_review(Rule.REST_MAX, day)


def stage_advance(st: State, day: int) -> bool:
    if st.phase != RETURN or st.stage is None or st.stage >= RETURN_STAGES:
        return False
    if st.stage_start is None or day - st.stage_start + 1 <= st.g.stage_days:
        return False
    st.advance_stage(Rule.STAGE_ADVANCE, day)
    return True


def return_complete(st: State, day: int) -> None:
    if st.phase != RETURN or st.stage != RETURN_STAGES or st.stage_start is None:
        return
    if day - st.stage_start + 1 > st.g.stage_days:
        st.close_episode(Rule.RETURN_COMPLETE, day)


def persist(st: State, day: int) -> None:
    """PERSIST_3D, PERSIST_7D and PERSIST_14D, in that order, on the current streak."""
    streak = st.streak_on(day)
    start = streak[0] if streak else None
    still_open = [raised for raised in st.open_by[CLOSE_STREAK] if raised.anchor_day == start]
    if len(still_open) != len(st.open_by[CLOSE_STREAK]):
        for raised in st.open_by[CLOSE_STREAK]:
            if raised.anchor_day != start:
                raised.closed_day = day
        st.open_by[CLOSE_STREAK] = still_open
    if streak is None:
        return
    first, last = streak
    length = last - first + 1
    g = st.g
    if length < min(g.persist_prompt_days, g.persist_doctor_days, g.persist_review_days):
        return
    anchor = day_key(first)
    if st.phase == ACTIVE and length >= g.persist_prompt_days:
        st.raise_escalation(Rule.PERSIST_3D, anchor, first, day, CLOSE_STREAK)
    if length >= g.persist_doctor_days:
        st.raise_escalation(Rule.PERSIST_7D, anchor, first, day, CLOSE_STREAK)
    if length >= g.persist_review_days and st.raise_escalation(
        Rule.PERSIST_14D, anchor, first, day, CLOSE_STREAK
    ):
        if st.episode_start is None:
            st.open_episode(Rule.PERSIST_14D, day)
            st.enter_review(Rule.PERSIST_14D, day)
        elif st.phase != REVIEW:
            st.enter_review(Rule.PERSIST_14D, day)


def chronic_3m(st: State, day: int) -> None:
    g = st.g
    width = len(st.chronic_runs)
    slot = day % width
    holds = st.last_pain is not None and st.last_pain > day - width
    run = st.chronic_runs[slot] + 1 if holds else 0
    st.chronic_runs[slot] = run
    if run < g.chronic_windows:
        return
    if st.last_chronic is not None and day - st.last_chronic < g.chronic_repeat_days:
        return
    st.last_chronic = day
    st.raise_escalation(Rule.CHRONIC_3M, day_key(day), day, day, CLOSE_TIMED)


def missed_logs(st: State, day: int) -> None:
    """The 7-day escalation; the 3-day nudge is advice only (texts.py)."""
    if st.episode_start is None or st.last_log is None:
        return
    if day - st.last_log >= st.g.missed_escalation_days:
        last = st.last_log
        st.raise_escalation(Rule.MISSED_LOGS, day_key(last), last, day, CLOSE_NEXT_ENTRY)


def acwr(acute: float, chronic: float) -> float | None:
    return acute / chronic if chronic > 0 else None


# The ratio is compared with this much slack so that a ratio of exactly 1.5, computed in
# floating point, does not fire on rounding noise.
RATIO_EPSILON = 1e-9


def load_spike(st: State, day: int) -> None:
    load = st.index.loads.get(day)
    if load is not None:
        st.add_load(day, load)
    g = st.g
    if st.first_workout is None or day - st.first_workout < g.load_spike_history_days:
        return
    loads = st.loads_on(day)
    ratio = acwr(*loads) if loads else None
    if ratio is not None and ratio > g.load_spike_ratio + RATIO_EPSILON:
        monday = day - (day - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
        st.raise_escalation(Rule.LOAD_SPIKE, day_key(monday), monday, day, CLOSE_TIMED)


def non_adherence(
    st: State,
    day: int,
    workouts: Iterable[Workout],
    phase_before: str,
    allowed_before: tuple[str, ...],
) -> None:
    """Each of the day's workouts against the plan at the end of the day before."""
    if phase_before == ACTIVE:
        return
    for workout in workouts:
        outside = workout.category not in allowed_before
        too_hard = (
            phase_before == REST
            and workout.category in RPE_LIMITED_CATEGORIES
            and workout.rpe > st.g.max_rpe
        )
        if outside or too_hard:
            name = ACTIVITY_NAMES.get(workout.activity, workout.activity)
            if not outside:  # the activity was allowed, its effort was not
                name += f" at an effort of {workout.rpe} out of 10"
            st.raise_escalation(
                Rule.NON_ADHERENCE, f"workout:{workout.id}", day, day, CLOSE_TIMED, detail=name
            )
