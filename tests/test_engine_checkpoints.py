"""Resuming from a checkpoint gives exactly the plan of a full replay (hypothesis)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.engine import Guideline, History, evaluate
from recovery.engine.checkpoint import Checkpoint, CheckpointMismatch
from recovery.engine.evaluate import evaluate_resumable
from tests.engine_factories import entry, history
from tests.test_engine_properties import BASE, FAST, SPAN, guidelines, histories, on_dates


def after(history: History, day: date) -> History:
    """Only the records dated after `day`: what the write path loads to resume."""
    return History(
        tuple(e for e in history.pain_entries if e.date > day),
        tuple(w for w in history.workouts if w.date > day),
        tuple(c for c in history.clearances if c.cleared_on > day),
    )


def stored(checkpoint: Checkpoint) -> Checkpoint:
    """The checkpoint as the database gives it back: through JSON."""
    loaded = Checkpoint.from_data(json.loads(json.dumps(checkpoint.to_data())))
    assert loaded is not None
    return loaded


@FAST
@given(histories(), on_dates, st.integers(1, 60), guidelines)
def test_resuming_from_a_checkpoint_gives_the_full_replays_plan(history, on, ahead, g) -> None:
    made = evaluate_resumable(history, on, g, checkpoint_on=on - timedelta(days=1))
    if made.checkpoint is None:  # nothing is dated before `on`
        assert after(history, on - timedelta(days=1)) == history
        return
    later = on + timedelta(days=ahead)
    resumed = evaluate_resumable(after(history, made.checkpoint.day), later, g,
                                 resume=stored(made.checkpoint))  # fmt: skip
    assert resumed.plan == evaluate(history, later, g)


@settings(FAST, max_examples=40)
@given(histories(), guidelines)
def test_a_checkpoint_kept_day_after_day_matches_a_full_replay_every_day(history, g) -> None:
    # The write path's rhythm: each day resumes from yesterday's checkpoint, keeps today's.
    checkpoint = None
    for offset in range(0, SPAN + 5, 3):
        on = BASE + timedelta(days=offset)
        yesterday = on - timedelta(days=1)
        if checkpoint is None:
            result = evaluate_resumable(history, on, g, checkpoint_on=yesterday)
        else:
            result = evaluate_resumable(
                after(history, checkpoint.day), on, g, resume=checkpoint, checkpoint_on=yesterday
            )
        assert result.plan == evaluate(history, on, g)
        if result.checkpoint is not None:
            checkpoint = stored(result.checkpoint)


@FAST
@given(histories(), on_dates)
def test_the_checkpoint_of_a_resumed_replay_equals_a_full_replays(history, on) -> None:
    first = evaluate_resumable(history, on, checkpoint_on=on - timedelta(days=5)).checkpoint
    if first is None:
        return
    resumed = evaluate_resumable(
        after(history, first.day), on, resume=first, checkpoint_on=on - timedelta(days=1)
    ).checkpoint
    full = evaluate_resumable(history, on, checkpoint_on=on - timedelta(days=1)).checkpoint
    assert resumed is not None
    assert full is not None
    assert resumed.to_data() == full.to_data()


def _some_checkpoint() -> tuple[History, Checkpoint]:
    """Sharp pain during exercise, then a day of pain 5: a rest with escalations open."""
    records = history(
        entry(BASE, 8, "sharp", "during_exercise"), entry(BASE + timedelta(days=1), 5)
    )
    made = evaluate_resumable(records, BASE + timedelta(days=3), checkpoint_on=BASE)
    assert made.checkpoint is not None
    return records, made.checkpoint


def test_a_checkpoint_refuses_another_guideline_or_an_earlier_date() -> None:
    records, checkpoint = _some_checkpoint()
    tail = after(records, checkpoint.day)
    with pytest.raises(CheckpointMismatch):
        evaluate_resumable(tail, BASE + timedelta(days=3), Guideline(rest_min_days=5),
                           resume=checkpoint)  # fmt: skip
    with pytest.raises(CheckpointMismatch):
        evaluate_resumable(tail, checkpoint.day, resume=checkpoint)


def test_a_checkpoint_of_other_engine_code_or_a_damaged_one_is_not_loaded() -> None:
    _, checkpoint = _some_checkpoint()
    data = checkpoint.to_data()
    assert Checkpoint.from_data({**data, "engine": "0" * 16}) is None
    assert Checkpoint.from_data({k: v for k, v in data.items() if k != "state"}) is None
    assert Checkpoint.from_data({**data, "loads": [[1, 2]]}) is None
    assert Checkpoint.from_data(None) is None
    assert Checkpoint.from_data("not a checkpoint") is None


def test_asking_for_todays_checkpoint_again_hands_back_the_same_one() -> None:
    records, checkpoint = _some_checkpoint()
    again = evaluate_resumable(after(records, checkpoint.day), BASE + timedelta(days=2),
                               resume=checkpoint, checkpoint_on=checkpoint.day)  # fmt: skip
    assert again.checkpoint is checkpoint


def test_no_checkpoint_before_the_first_data_date() -> None:
    records, _ = _some_checkpoint()
    made = evaluate_resumable(records, BASE, checkpoint_on=BASE - timedelta(days=1))
    assert made.checkpoint is None
    assert made.plan == evaluate(records, BASE)
