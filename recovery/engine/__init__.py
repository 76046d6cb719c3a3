"""Rebound's progression engine: GUIDELINES.md as a pure function.

    plan = evaluate(history, on_date, guideline)

The engine imports nothing from Django and reads no clock, database or cache: it takes plain
frozen dataclasses (`inputs.py`) and a `Guideline` (`guideline.py`), replays the history day
by day (`evaluate.py`, with one function per rule ID in `rules.py`), and returns a `Plan`
(`plan.py`) whose advice and reasons are worded in `texts.py`. Same inputs, same plan; data
dated after `on_date` is ignored; a valid history never makes it raise.

`evaluate_resumable` also keeps a `Checkpoint` (`checkpoint.py`): the state at the end of a
chosen day, from which the next evaluation resumes given only the records dated after it,
with the same plan a full replay gives.

Interpretations
---------------
Where GUIDELINES.md leaves a gap or could be read two ways, the engine takes the reading that
escalates or keeps the patient resting rather than the one that lets them do more:

1. Records recorded at the very same instant on one day are ordered clearance, then
   workout, then pain entry (then by id): a clearance tied with a red flag does not clear it.
2. A clearance dated the day a *time-based* review begins (REST_MAX, PERSIST_14D) is applied
   with that day's records, before the time rules ("Order"), so the patient is not yet in
   `medical_review` and it changes nothing; a clearance dated a later day is needed. (A
   clearance recorded after a same-day red flag does clear it, as the guidelines say.)
3. The second and later flares of an episode raise RECURRENCE_REPEAT only, not RECURRENCE
   as well: "RECURRENCE_REPEAT … medical_review instead of rest" replaces the rule. The first
   RECURRENCE stays open until the episode closes, so the level never drops below attention.
4. REST_EXIT needs two logged days on or after the rest began; with only one, the patient
   stays in rest (and REST_MAX still counts). The flare day itself is one of those days, so
   after a flare scored above `improved_max` the earliest exit is rest day 3, even when
   `rest_after_flare_days` is 1 or 2.
5. A clearance closes the red-flag, REST_MAX and RECURRENCE_REPEAT escalations only when it
   acts (in `medical_review`); one that changes nothing closes nothing. PERSIST_* stay open
   after a clearance until the streak ends, so a return can start at level see_doctor.
6. "Closes 7 days after it was raised" (LOAD_SPIKE, NON_ADHERENCE, CHRONIC_3M): open on the
   day raised and the six days after; `closed_on` is the seventh day after.
7. The acute:chronic ratio is compared with 1e-9 of slack, so a ratio of exactly 1.5
   computed in floating point does not fire on rounding noise (it must be > 1.5). With a
   chronic load of 0 the ratio is null, and LOAD_SPIKE cannot fire.
8. In `rest`, RPE above `max_rpe` counts against `low_impact` and `core` only (as written);
   mobility is allowed at any effort. Stage 3 bars trigger categories on its days 1–7 even
   when `stage_days` is overridden (the 7 is not an overridable number).
9. The first data date (day 1 of the first `active`) is the earliest date of any pain entry,
   workout or clearance on or before the plan's date; before it the plan is `active` with
   every day count null and no escalation.
10. DOMS advice appears on the plan of the day whose entry qualifies (advice "for today"),
    not on later days.
11. ACUTE_ONSET's kind of entry (exercise-related, sharp or shooting or scored 7 or more)
    dated after a rest's first day is taken as a new injury: the rest minimum counts again
    from it, `rest_min_days` whatever rest it is (one after a flare included), so REST_EXIT
    comes no earlier than a full minimum after it, nor earlier than the minimum already
    counting (a short `rest_min_days` never shortens a longer rest after a flare). The
    guidelines give it no effect (ACUTE_ONSET acts outside an episode, RECURRENCE in
    `return`). REST_MAX still counts from the rest's first day, so the review is never put
    off, and no escalation is raised again (ACUTE_ONSET's anchor is the episode's first
    day). In `medical_review` such an entry changes nothing: only a clearance ends the
    review.
12. The MISSED_LOGS nudge needs an episode, or a MISSED_LOGS escalation still open (it stays
    open, even after the episode closes, until the next entry). The 7-day escalation is only
    raised within an episode.
13. Day counts and scores given as overrides must be whole numbers; a whole float (7.0, as a
    float column returns it) is accepted as 7.
14. A naive `recorded` datetime (never valid input) is read as UTC rather than refused.

Patient-facing wording names an overridden value where it is used ("Your therapist set your
minimum rest after an injury to 5 days (usually 7 days)"); `Plan.overrides` lists them all.
"""

from __future__ import annotations

from recovery.engine.checkpoint import Checkpoint, CheckpointMismatch
from recovery.engine.evaluate import SWEEP_ONLY_RULES, Evaluation, evaluate, evaluate_resumable
from recovery.engine.guideline import (
    DEFAULT_GUIDELINE,
    OVERRIDE_BOUNDS,
    Guideline,
    GuidelineError,
    guideline_with_overrides,
)
from recovery.engine.inputs import (
    ACTIVITIES,
    ACTIVITY_CATALOGUE,
    CATEGORIES,
    ESCALATION_LEVELS,
    LEVEL_ORDER,
    NO_LEVEL,
    RULE_IDS,
    Activity,
    Category,
    Character,
    Clearance,
    History,
    Level,
    Onset,
    PainEntry,
    Phase,
    RedFlag,
    Region,
    Rule,
    Workout,
    level_at_least,
    level_rank,
    max_level,
)
from recovery.engine.plan import Episode, Item, Override, Plan, RaisedEscalation

__all__ = [
    "ACTIVITIES",
    "ACTIVITY_CATALOGUE",
    "CATEGORIES",
    "DEFAULT_GUIDELINE",
    "ESCALATION_LEVELS",
    "LEVEL_ORDER",
    "NO_LEVEL",
    "OVERRIDE_BOUNDS",
    "RULE_IDS",
    "SWEEP_ONLY_RULES",
    "Activity",
    "Category",
    "Character",
    "Checkpoint",
    "CheckpointMismatch",
    "Clearance",
    "Episode",
    "Evaluation",
    "Guideline",
    "GuidelineError",
    "History",
    "Item",
    "Level",
    "Onset",
    "Override",
    "PainEntry",
    "Phase",
    "Plan",
    "RaisedEscalation",
    "RedFlag",
    "Region",
    "Rule",
    "Workout",
    "evaluate",
    "evaluate_resumable",
    "guideline_with_overrides",
    "level_at_least",
    "level_rank",
    "max_level",
]
