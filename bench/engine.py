"""How long one evaluation takes, and how it grows with the length of the history.

    python bench/engine.py [--repeat N]

A patient logs pain every day and works out four days a week (the shape the dashboard and
the sweep evaluate most); the plan is evaluated for the last day of 90 and of 365 days.
Prints microseconds per evaluation and per replayed day, and the ratio of the per-day costs
(about 1 when the replay grows linearly). Then what a save costs the engine: resuming from
yesterday's checkpoint with today's entry only, which should not grow with the history.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recovery.engine import Checkpoint, History, evaluate, evaluate_resumable
from recovery.engine.inputs import ACTIVITIES, PainEntry, Workout

TODAY = date(2025, 6, 30)
WORKOUT_WEEKDAYS = (0, 1, 3, 5)


def history(days: int, seed: int = 7) -> History:
    """`days` days of daily pain entries ending TODAY, and four workouts a week."""
    rng = random.Random(seed)
    entries, workouts = [], []
    for offset in range(days):
        day = TODAY - timedelta(days=days - 1 - offset)
        noon = datetime.combine(day, dtime(12), tzinfo=UTC)
        score = max(0, min(10, round(rng.gauss(3, 2))))
        character = rng.choice(("ache", "stiffness", "ache", "sharp"))
        onset = rng.choice(("unrelated", "delayed", "after_exercise", "during_exercise"))
        entries.append(
            PainEntry(offset, day, score, "lower_back", character, onset, frozenset(), noon)
        )
        if day.weekday() in WORKOUT_WEEKDAYS:
            activity = rng.choice(ACTIVITIES)
            workouts.append(
                Workout(
                    offset, day, activity.slug, activity.category,
                    rng.randint(20, 60), rng.randint(2, 7), noon - timedelta(hours=3),
                )
            )  # fmt: skip
    return History(pain_entries=tuple(entries), workouts=tuple(workouts))


def per_evaluation(days: int, repeat: int) -> float:
    """Best-of-5 mean seconds per evaluation."""
    records = history(days)
    return _best_of_5(lambda: evaluate(records, TODAY), repeat)


def _best_of_5(run, repeat: int) -> float:
    run()  # warm up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def per_resume(days: int, repeat: int) -> float:
    """Best-of-5 mean seconds to resume from yesterday's checkpoint (loaded from its stored
    form, as a save does) and keep the same one."""
    records = history(days)
    yesterday = TODAY - timedelta(days=1)
    kept = evaluate_resumable(records, TODAY, checkpoint_on=yesterday).checkpoint
    assert kept is not None
    data = kept.to_data()
    today_only = History(
        pain_entries=tuple(e for e in records.pain_entries if e.date == TODAY),
        workouts=tuple(w for w in records.workouts if w.date == TODAY),
    )

    def run() -> None:
        checkpoint = Checkpoint.from_data(data)
        evaluate_resumable(today_only, TODAY, resume=checkpoint, checkpoint_on=yesterday)

    return _best_of_5(run, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="evaluations per timing run")
    args = parser.parse_args()
    per_day = {}
    for days in (90, 365):
        seconds = per_evaluation(days, args.repeat)
        per_day[days] = seconds / days
        print(
            f"{days:4d} days: {seconds * 1e6:9.1f} µs per evaluation, "
            f"{per_day[days] * 1e6:6.2f} µs per day replayed"
        )
    print(f"growth: per-day cost at 365 days / at 90 days = {per_day[365] / per_day[90]:.2f}")
    for days in (90, 365):
        seconds = per_resume(days, args.repeat)
        print(
            f"{days:4d} days: {seconds * 1e6:9.1f} µs per save's resume from yesterday's checkpoint"
        )


if __name__ == "__main__":
    main()
