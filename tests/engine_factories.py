"""Small builders for engine histories: records in the order a test writes them.

Records made later by a test are recorded later (on the same day), unless `at=` gives the
hour explicitly.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from recovery.engine.inputs import (
    ACTIVITY_CATALOGUE,
    Clearance,
    History,
    PainEntry,
    Workout,
)

D = date(2025, 3, 20)
"""'Today' of the worked examples: a Thursday."""

_ids = itertools.count(1)
_ticks = itertools.count(1)


def day(offset: int, base: date = D) -> date:
    return base + timedelta(days=offset)


def _recorded(when: date, at: float | None) -> datetime:
    if at is not None:
        return datetime.combine(when, time(0), tzinfo=UTC) + timedelta(hours=at)
    # Noon, plus a tick per record made, so a test's order is the recorded order.
    return datetime.combine(when, time(12), tzinfo=UTC) + timedelta(microseconds=next(_ticks))


def entry(
    when: date,
    score: int,
    character: str = "ache",
    onset: str = "unrelated",
    flags: tuple[str, ...] = (),
    *,
    region: str = "lower_back",
    at: float | None = None,
    id: int | None = None,
) -> PainEntry:
    return PainEntry(
        id=next(_ids) if id is None else id,
        date=when,
        score=score,
        region=region,
        character=character,
        onset=onset,
        red_flags=frozenset(flags),
        recorded=_recorded(when, at),
    )


def sharp(
    when: date, score: int = 7, onset: str = "during_exercise", **kwargs: object
) -> PainEntry:
    """Sharp pain during exercise: ACUTE_ONSET outside an episode."""
    return entry(when, score, "sharp", onset, **kwargs)  # type: ignore[arg-type]


def workout(
    when: date,
    activity: str = "walking",
    minutes: int = 30,
    rpe: int = 3,
    *,
    at: float | None = None,
    id: int | None = None,
) -> Workout:
    return Workout(
        id=next(_ids) if id is None else id,
        date=when,
        activity=activity,
        category=ACTIVITY_CATALOGUE[activity],
        duration_min=minutes,
        rpe=rpe,
        recorded=_recorded(when, at),
    )


def clearance(when: date, *, at: float | None = None, id: int | None = None) -> Clearance:
    return Clearance(
        id=next(_ids) if id is None else id, cleared_on=when, recorded=_recorded(when, at)
    )


def daily(first: date, scores: list[int] | tuple[int, ...], **kwargs: object) -> list[PainEntry]:
    """One entry a day from `first`, with these scores."""
    return [entry(first + timedelta(days=i), s, **kwargs) for i, s in enumerate(scores)]  # type: ignore[arg-type]


def history(*records: PainEntry | Workout | Clearance | list | History) -> History:
    """A history of these records; a list or another History adds all of its own."""
    flat: list[PainEntry | Workout | Clearance] = []
    for record in records:
        if isinstance(record, History):
            flat.extend((*record.pain_entries, *record.workouts, *record.clearances))
        elif isinstance(record, list):
            flat.extend(record)
        else:
            flat.append(record)
    unknown = [r for r in flat if not isinstance(r, PainEntry | Workout | Clearance)]
    if unknown:
        # A record of another type would otherwise drop out of the history unnoticed.
        raise TypeError(f"not a record: {unknown[0]!r}")
    return History(
        pain_entries=tuple(r for r in flat if isinstance(r, PainEntry)),
        workouts=tuple(r for r in flat if isinstance(r, Workout)),
        clearances=tuple(r for r in flat if isinstance(r, Clearance)),
    )


def into_return(start: date, days: int) -> list[PainEntry]:
    """Sharp pain during exercise on `start`, then score 1 every day for `days` more days.

    With the default guideline REST_EXIT fires on rest day 7 (start + 6): return stage 1 runs
    start+6 … start+19, stage 2 start+20 … start+33, stage 3 start+34 … start+47, and
    RETURN_COMPLETE makes start+48 active again.
    """
    return [sharp(start), *daily(start + timedelta(days=1), [1] * days)]


RETURN_STARTS = 6
"""into_return: day offset from `start` of return stage 1."""


def rules_of(items: tuple) -> list[str]:
    return [item.rule for item in items]


def raised(plan: object, rule: str) -> list:
    return [e for e in plan.escalations if e.rule == rule]  # type: ignore[attr-defined]
