"""Resuming from a checkpoint gives exactly the plan of a full replay (hypothesis)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.engine import Guideline, History, evaluate
from recovery.engine import checkpoint as checkpoint_module
from recovery.engine.checkpoint import Checkpoint, CheckpointMismatch
from recovery.engine.evaluate import evaluate_resumable
from tests.engine_factories import RETURN_STARTS, entry, history, into_return, workout
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


def test_the_engine_code_changes_when_any_engine_module_changes(tmp_path, monkeypatch) -> None:
    """A checkpoint made before a change to any rule or to the state must never be resumed."""
    copy = tmp_path / "engine"
    shutil.copytree(Path(checkpoint_module.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    monkeypatch.setattr(checkpoint_module, "__file__", str(copy / "checkpoint.py"))
    assert checkpoint_module._engine_code() == checkpoint_module.ENGINE_CODE

    for module in sorted(copy.glob("*.py")):
        before = checkpoint_module._engine_code()
        module.write_text(module.read_text() + "\n# changed\n")
        assert checkpoint_module._engine_code() != before, module.name


def test_a_checkpoint_keeps_how_many_workouts_each_day_held() -> None:
    """Two workouts on one day before an episode make the return's baseline theirs (at least
    2 workouts in the 28 days before it); after a JSON round trip the count is still 2."""
    onset = BASE + timedelta(days=10)
    records = history(
        workout(BASE, "cycling", 60, 5), workout(BASE, "walking", 40, 4), into_return(onset, 12)
    )
    made = evaluate_resumable(records, onset, checkpoint_on=onset - timedelta(days=1))
    assert made.checkpoint is not None
    on = onset + timedelta(days=RETURN_STARTS + 1)  # return stage 1: the cap applies

    resumed = evaluate_resumable(after(records, made.checkpoint.day), on,
                                 resume=stored(made.checkpoint))  # fmt: skip

    full = evaluate(records, on)
    assert full.phase == "return"
    assert full.weekly_load_cap != Guideline().default_weekly_load * 0.5  # their own baseline
    assert resumed.plan == full
