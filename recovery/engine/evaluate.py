"""`evaluate(history, on_date, guideline) -> Plan`: the day-by-day replay and the plan it ends in.

The replay, for each day from the first data date to `on_date`:

1. applies the day's records in the order they were recorded (pain entries through the entry
   rules, clearances through CLEARANCE), then updates the logged-day state;
2. applies the time rules in GUIDELINES "Order": REST_EXIT/REST_MAX,
   STAGE_ADVANCE/RETURN_COMPLETE, PERSIST_*, CHRONIC_3M, MISSED_LOGS, LOAD_SPIKE,
   NON_ADHERENCE (each workout against the plan at the end of the day before);
3. when nothing can happen until the next record (no episode or an idle review, no streak,
   no pain day inside the CHRONIC_3M window, a falling load ratio at or under the threshold),
   jumps to it.

Each day costs O(1) plus its records, so a year replays in a few milliseconds. The plan's
advice and reasons are then worded for `on_date` alone.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass
from datetime import date

from recovery.engine import rules, texts
from recovery.engine.checkpoint import (
    ENGINE_CODE,
    Checkpoint,
    CheckpointMismatch,
    guideline_values,
)
from recovery.engine.guideline import DEFAULT_GUIDELINE, Guideline
from recovery.engine.inputs import (
    CATEGORIES,
    NO_LEVEL,
    History,
    Rule,
    Workout,
    max_level,
)
from recovery.engine.plan import Episode, Item, Override, Plan, RaisedEscalation
from recovery.engine.state import (
    ACTIVE,
    CLOSE_STREAK,
    KIND_CLEARANCE,
    KIND_ENTRY,
    REST,
    RETURN,
    REVIEW,
    DayIndex,
    Raised,
    State,
    allowed_categories,
)

SWEEP_ONLY_RULES = frozenset({Rule.MISSED_LOGS.value, Rule.REST_MAX.value})
"""Rules only the periodic sweep records (they fire on the absence of entries)."""


def evaluate(history: History, on_date: date, guideline: Guideline = DEFAULT_GUIDELINE) -> Plan:
    """The plan for `on_date`. Records dated after `on_date` are ignored."""
    return evaluate_resumable(history, on_date, guideline).plan


@dataclass(frozen=True, slots=True)
class Evaluation:
    plan: Plan
    checkpoint: Checkpoint | None
    """The state at the end of `checkpoint_on`; None when not asked for or before any data.
    It is `resume` itself when that is already the state of `checkpoint_on`."""


def evaluate_resumable(
    history: History,
    on_date: date,
    guideline: Guideline = DEFAULT_GUIDELINE,
    *,
    resume: Checkpoint | None = None,
    checkpoint_on: date | None = None,
) -> Evaluation:
    """`evaluate`, optionally resuming from a checkpoint and keeping one for next time.

    With `resume`, the replay starts from the checkpoint's state on the day after it, and
    `history` need only hold the records dated after `resume.day` (earlier ones are ignored:
    the caller vouches they are the ones the checkpoint was made from). Raises
    CheckpointMismatch when `resume` does not fit the guideline or the date.
    """
    last = on_date.toordinal()
    keep = checkpoint_on.toordinal() if checkpoint_on is not None else None
    if resume is None:
        index = DayIndex(history, last)
        st = State(guideline, index)
        start = index.first
    else:
        if not resume.fits(guideline, on_date):
            raise CheckpointMismatch(f"the checkpoint of {resume.day} does not fit")
        after = resume.day.toordinal()
        index = DayIndex(history, last, after=after, carried=resume.look_back)
        st = State.restore(guideline, index, resume.state)
        start = after + 1
    kept = None
    if start is not None:
        kept = _run(st, start, last, keep=keep)
    if resume is not None and keep == resume.day.toordinal():
        kept = resume
    return Evaluation(_plan(st, last), kept)


def replay(history: History, last: int, g: Guideline, *, fast_forward: bool = True) -> State:
    """The state at the end of day `last` (an ordinal). `fast_forward=False` replays every
    day, for tests that check the jump changes nothing."""
    index = DayIndex(history, last)
    st = State(g, index)
    if index.first is not None:
        _run(st, index.first, last, fast_forward=fast_forward)
    return st


def _run(
    st: State, day: int, last: int, *, fast_forward: bool = True, keep: int | None = None
) -> Checkpoint | None:
    """Replay days `day`…`last` onto `st`; return the checkpoint of day `keep` if asked."""
    index = st.index
    event_days = index.event_days
    next_event = bisect.bisect_left(event_days, day)
    kept = None
    while day <= last:
        workouts: list[Workout] = []
        phase_before, allowed_before = st.phase, ()
        if next_event < len(event_days) and event_days[next_event] == day:
            next_event += 1
            if day in index.workout_counts:
                allowed_before = st.allowed_at_end_of(day - 1)
            _apply_records(st, day, workouts)
        _apply_time_rules(st, day, workouts, phase_before, allowed_before)
        if day == keep:
            kept = _checkpoint(st, day)
        if fast_forward and _quiet(st, day):
            upcoming = event_days[next_event] if next_event < len(event_days) else last + 1
            stop = min(upcoming, last + 1)
            if keep is not None and day < keep:
                stop = min(stop, keep)  # land on the checkpoint's day, not over it
            gap = stop - day - 1
            if gap > 0:
                _skip(st, day, gap)
                day += gap
        day += 1
    return kept


def _checkpoint(st: State, day: int) -> Checkpoint | None:
    look_back = st.index.look_back(day, st.g)
    if look_back is None:
        return None
    return Checkpoint(
        day=date.fromordinal(day),
        engine=ENGINE_CODE,
        guideline=guideline_values(st.g),
        state=st.export(),
        look_back=look_back,
    )


def _apply_records(st: State, day: int, workouts: list[Workout]) -> None:
    for kind, record in st.index.events[day]:
        if kind == KIND_ENTRY:
            for rule in rules.ENTRY_RULES:
                rule(st, record, day)  # type: ignore[arg-type]
        elif kind == KIND_CLEARANCE:
            rules.clearance(st, record, day)  # type: ignore[arg-type]
        else:
            workouts.append(record)  # type: ignore[arg-type]
    score = st.index.scores.get(day)
    if score is not None:
        rules.log_day(st, day, score)


def _apply_time_rules(
    st: State, day: int, workouts: list[Workout], phase_before: str, allowed_before: tuple[str, ...]
) -> None:
    # REST_EXIT can only lead to a stage's day 1, so at most one of these pairs acts.
    if st.phase == REST:
        if not rules.rest_exit(st, day):
            rules.rest_max(st, day)
    elif st.phase == RETURN and not rules.stage_advance(st, day):
        rules.return_complete(st, day)
    if st.streak_start is not None or st.open_by[CLOSE_STREAK]:
        rules.persist(st, day)
    rules.chronic_3m(st, day)
    rules.missed_logs(st, day)
    rules.load_spike(st, day)
    if workouts:
        rules.non_adherence(st, day, workouts, phase_before, allowed_before)


def _quiet(st: State, day: int) -> bool:
    """True when no rule can act on the days after `day` until the next record."""
    g = st.g
    if st.phase == REVIEW:
        # Only MISSED_LOGS acts on an idle review, once, 7 days after the last log.
        if st.last_log is not None and day - st.last_log < g.missed_escalation_days:
            return False
    elif st.episode_start is not None:
        return False  # rest and return always change within a few weeks
    if st.open_by[CLOSE_STREAK] or st.streak_on(day):
        return False
    if st.last_pain is not None and st.last_pain > day + 1 - len(st.chronic_runs):
        return False
    loads = st.loads_on(day)
    if loads is not None:
        if g.acute_load_days > g.chronic_load_days:
            return False  # the ratio could rise without a workout
        ratio = rules.acwr(*loads)
        if ratio is not None and ratio > g.load_spike_ratio:
            return False
    return True


def _skip(st: State, day: int, gap: int) -> None:
    """Days without records while quiet: only the CHRONIC_3M runs change (to 0)."""
    width = len(st.chronic_runs)
    for skipped in range(day + 1, day + 1 + min(gap, width)):
        st.chronic_runs[skipped % width] = 0


# --- the plan ---------------------------------------------------------------------------------


def _overrides(g: Guideline) -> tuple[Override, ...]:
    return tuple(
        Override(field.name, getattr(g, field.name), getattr(DEFAULT_GUIDELINE, field.name))
        for field in dataclasses.fields(g)
        if getattr(g, field.name) != getattr(DEFAULT_GUIDELINE, field.name)
    )


def _iso(day: int | None) -> date | None:
    return None if day is None else date.fromordinal(day)


def _weekly_load_cap(st: State, day: int) -> float | None:
    if st.phase != RETURN or st.segment_start is None or st.baseline is None:
        return None
    g = st.g
    week = (day - st.segment_start) // 7 + 1
    growth = g.cap_start_fraction * (1 + g.weekly_increase) ** min(week - 1, 520)
    return st.baseline * min(1.0, growth)


def _escalation(raised: Raised, day: int) -> RaisedEscalation:
    closed = (
        raised.closed_day if raised.closed_day is not None and raised.closed_day <= day else None
    )
    return RaisedEscalation(
        rule=raised.rule,
        level=raised.level,
        anchor=raised.anchor,
        anchor_date=date.fromordinal(raised.anchor_day),
        raised_on=date.fromordinal(raised.raised_day),
        is_open=closed is None,
        closed_on=_iso(closed),
    )


def _plan(st: State, day: int) -> Plan:
    g = st.g
    index = st.index
    if index.first is None or st.phase_start is None:
        return Plan(
            date=date.fromordinal(day),
            phase=ACTIVE,
            stage=None,
            day_in_phase=None,
            day_in_stage=None,
            episode=None,
            allowed_categories=CATEGORIES,
            max_rpe=None,
            weekly_load_cap=None,
            acute_load=None,
            chronic_load=None,
            acwr=None,
            escalation_level=NO_LEVEL,
            clearance_required=False,
            advice=(),
            reasons=(),
            escalations=(),
            last_log_date=None,
            first_data_date=None,
            overrides=_overrides(g),
        )
    open_now = [raised for raised in st.raised.values() if raised.open_on(day)]
    loads = st.loads_on(day)
    cap = _weekly_load_cap(st, day)
    advice, reasons = _items(st, day, open_now, cap)
    episode = None
    if st.episode_start is not None:
        episode = Episode(
            start=date.fromordinal(st.episode_start),
            trigger_rule=str(st.episode_rule),
            trigger_categories=tuple(str(c) for c in st.episode_triggers),
            flare_count=st.flares,
        )
    in_return = st.phase == RETURN and st.stage_start is not None
    return Plan(
        date=date.fromordinal(day),
        phase=str(st.phase),
        stage=st.stage if in_return else None,
        day_in_phase=day - st.phase_start + 1,
        day_in_stage=day - st.stage_start + 1 if in_return and st.stage_start is not None else None,
        episode=episode,
        allowed_categories=allowed_categories(st.phase, st.stage, st.barred_on(day)),
        max_rpe=g.max_rpe if st.phase == REST else None,
        weekly_load_cap=cap,
        acute_load=loads[0] if loads else None,
        chronic_load=loads[1] if loads else None,
        acwr=rules.acwr(*loads) if loads else None,
        escalation_level=max_level(*(raised.level for raised in open_now)),
        clearance_required=st.phase == REVIEW,
        advice=advice,
        reasons=reasons,
        escalations=tuple(_escalation(raised, day) for raised in st.raised.values()),
        last_log_date=_iso(st.last_log),
        first_data_date=date.fromordinal(index.first),
        overrides=_overrides(g),
    )


# --- advice and reasons -----------------------------------------------------------------------

# Open escalations whose rule asks the patient to do something today.
_PROMPTS = {
    Rule.ACUTE_ONSET: lambda st, raised: texts.acute_onset(raised.anchor_day),
    Rule.REST_MAX: lambda st, raised: texts.rest_max(st.g),
    Rule.PERSIST_3D: lambda st, raised: texts.persist_3d(st.g),
    Rule.PERSIST_7D: lambda st, raised: texts.persist_7d(
        st.g, cleared_since=_cleared_since(st, raised.raised_day)
    ),
    Rule.PERSIST_14D: lambda st, raised: texts.persist_14d(
        st.g, cleared_since=_cleared_since(st, raised.raised_day)
    ),
    Rule.CHRONIC_3M: lambda st, raised: texts.chronic_3m(st.g),
    Rule.LOAD_SPIKE: lambda st, raised: texts.LOAD_SPIKE,
}


_STREAK_RULES = (Rule.PERSIST_14D, Rule.PERSIST_7D, Rule.PERSIST_3D)  # longest first


def _cleared_since(st: State, day: int) -> bool:
    """The current return began with a clearance dated on or after `day`, the day the
    streak's prompt was raised. A clearance from earlier in the streak came before the
    doctor knew how long the pain would last, so the prompt still asks for a doctor."""
    return (
        st.phase == RETURN
        and st.phase_rule == Rule.CLEARANCE
        and st.phase_start is not None
        and st.phase_start >= day
    )


def _cold_only(st: State, day: int) -> bool:
    """COLD_FIRST_48H: rest days 1 to `cold_days`."""
    return (
        st.phase == REST
        and st.phase_start is not None
        and day - st.phase_start + 1 <= st.g.cold_days
    )


def _items(
    st: State, day: int, open_now: list[Raised], cap: float | None
) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """(advice, reasons) for `day`: the phase's own, then the open escalations'."""
    advice: list[Item] = []
    reasons: list[Item] = []
    open_rules = {raised.rule for raised in open_now}
    _red_flag_advice(open_now, day, advice)
    _phase_items(st, day, cap, advice, reasons, emergency=Rule.RED_FLAG_EMERGENCY in open_rules)
    # In review, the rule that began it already has its advice; of a streak's prompts only
    # the longest speaks (each still has its reason below).
    prompted: set[str] = {str(st.phase_rule)} if st.phase == REVIEW else set()
    streak = [rule for rule in _STREAK_RULES if rule in open_rules]
    prompted.update(streak[1:])
    for raised in open_now:
        prompt = _PROMPTS.get(raised.rule)  # type: ignore[call-overload]
        if prompt is not None and raised.rule not in prompted:
            prompted.add(raised.rule)
            advice.append(Item(raised.rule, prompt(st, raised)))
    if st.doms_day == day:
        text = texts.doms(cold_only=_cold_only(st, day), resting=st.phase in (REST, REVIEW))
        advice.append(Item(Rule.DOMS.value, text))
    if (
        st.last_log is not None
        and (st.episode_start is not None or Rule.MISSED_LOGS in open_rules)
        and day - st.last_log >= st.g.missed_nudge_days
    ):
        advice.append(Item(Rule.MISSED_LOGS.value, texts.missed_logs(st.last_log)))
    named = {item.rule for item in reasons}
    for raised in reversed(open_now):  # the latest of each rule; every workout (one per anchor)
        if raised.rule not in named or raised.rule == Rule.NON_ADHERENCE:
            named.add(raised.rule)
            text = texts.escalation_reason(raised.rule, raised.anchor_day, raised.detail, st.g)
            reasons.append(Item(raised.rule, text))
    return tuple(advice), tuple(reasons)


def _red_flag_advice(open_now: list[Raised], day: int, advice: list[Item]) -> None:
    """Emergencies first: nothing else matters until they are seen to. While one is open, the
    urgent advice ("within 48 hours") is left out, so it cannot read as leave to wait.

    The emergency advice names the latest report (one made today gets the plain call to act);
    the urgent advice, the earliest, whose 48 hours run out first."""
    emergency = [r.anchor_day for r in open_now if r.rule == Rule.RED_FLAG_EMERGENCY]
    urgent = [r.anchor_day for r in open_now if r.rule == Rule.RED_FLAG_URGENT]
    if emergency:
        text = texts.emergency_advice(max(emergency), day)
        advice.append(Item(Rule.RED_FLAG_EMERGENCY.value, text))
    elif urgent:
        advice.append(Item(Rule.RED_FLAG_URGENT.value, texts.urgent_advice(min(urgent), day)))


def _phase_items(
    st: State,
    day: int,
    cap: float | None,
    advice: list[Item],
    reasons: list[Item],
    *,
    emergency: bool,
) -> None:
    g = st.g
    rule = str(st.phase_rule) if st.phase_rule else None
    start = st.phase_start if st.phase_start is not None else day
    if st.phase == REST and rule:
        _rest_items(st, day, rule, start, advice, reasons)
    elif st.phase == REVIEW and rule:
        reasons.append(Item(rule, texts.review_reason(rule, start, g, flares=st.flares)))
        review = texts.REVIEW_ADVICE_AFTER_EMERGENCY if emergency else texts.REVIEW_ADVICE
        advice.append(Item(rule, review))
    elif st.phase == RETURN and rule and st.stage is not None and st.stage_start is not None:
        stage_rule = str(st.stage_rule or rule)
        # Still in the stage a return after a flare-up began at (flares happen only in a
        # return, so a REST_EXIT with flares behind it ended a flare's rest).
        after_flare = st.flares > 0 and rule == Rule.REST_EXIT and stage_rule == Rule.REST_EXIT
        restart = st.stage if after_flare else None
        reasons.append(Item(rule, texts.return_reason(rule, start, g, restart_stage=restart)))
        if stage_rule == Rule.STAGE_ADVANCE:
            reasons.append(Item(stage_rule, texts.stage_reason(st.stage, st.stage_start, g)))
        barred = st.barred_on(day)
        allowed = allowed_categories(st.phase, st.stage, barred)
        stage_day = day - st.stage_start + 1
        advice.append(Item(stage_rule, texts.stage_advice(st.stage, stage_day, allowed, barred, g)))
        if cap is not None and st.baseline is not None:
            advice.append(Item(stage_rule, texts.load_cap(cap, st.baseline, g)))
        advice.append(Item(stage_rule, texts.flare_warning(g, flared_before=st.flares > 0)))
    elif st.phase == ACTIVE and rule == Rule.RETURN_COMPLETE:
        reasons.append(Item(rule, texts.return_complete(start)))


def _rest_items(
    st: State, day: int, rule: str, start: int, advice: list[Item], reasons: list[Item]
) -> None:
    g = st.g
    rest_day = day - start + 1
    reasons.append(Item(rule, texts.rest_reason(rule, start, rest_day)))
    if rest_day < st.rest_min:
        after_flare = rule == Rule.RECURRENCE
        text = texts.rest_min(rest_day, st.rest_min, after_flare, g, since=st.rest_min_since)
        reasons.append(Item(Rule.REST_MIN.value, text))
    advice.append(Item(rule, texts.RELATIVE_REST))
    advice.append(Item(rule, texts.rest_allowed(g)))
    advice.append(Item(rule, texts.STRETCHES))
    if _cold_only(st, day):
        advice.append(Item(Rule.COLD_FIRST_48H.value, texts.COLD_FIRST_48H))
    else:
        advice.append(Item(Rule.HEAT_OR_COLD.value, texts.HEAT_OR_COLD))
    advice.append(Item(rule, texts.rest_exit_condition(g)))
    advice.append(Item(rule, texts.WHEN_TO_SEE_A_DOCTOR))
