"""The six worked examples of GUIDELINES.md, D = today."""

from __future__ import annotations

from recovery.engine import SWEEP_ONLY_RULES, evaluate
from tests.engine_factories import (
    D,
    clearance,
    daily,
    day,
    entry,
    history,
    raised,
    rules_of,
    sharp,
    workout,
)


def _escalations(plan) -> list[tuple]:
    return [(e.rule, e.level, e.anchor, e.raised_on) for e in plan.escalations]


def test_example_1_doms_after_deadlifts() -> None:
    records = history(
        workout(day(-2), "deadlift", 45, 8),
        entry(day(-1), 3, "ache", "delayed"),
        entry(D, 3, "ache", "delayed"),
    )
    plan = evaluate(records, D)
    assert plan.phase == "active"
    assert plan.episode is None
    assert "DOMS" in rules_of(plan.advice)
    assert plan.escalations == ()
    assert plan.escalation_level == "none"
    assert plan.day_in_phase == 3  # active since the first data date, D−2
    assert "DOMS" in rules_of(evaluate(records, day(-1)).advice)


def test_example_2_sharp_pain_during_exercise_starts_rest() -> None:
    records = history(sharp(day(-3), 8))
    plan = evaluate(records, D)
    assert (plan.phase, plan.day_in_phase) == ("rest", 4)
    assert plan.escalation_level == "see_doctor"
    assert _escalations(plan) == [
        ("ACUTE_ONSET", "see_doctor", f"date:{day(-3).isoformat()}", day(-3))
    ]
    assert plan.reasons[0].rule == "ACUTE_ONSET"
    for early in (day(-3), day(-2)):
        assert "COLD_FIRST_48H" in rules_of(evaluate(records, early).advice)
        assert "HEAT_OR_COLD" not in rules_of(evaluate(records, early).advice)
    assert "HEAT_OR_COLD" in rules_of(plan.advice)
    assert "COLD_FIRST_48H" not in rules_of(plan.advice)


def test_example_3_rest_exit_on_rest_day_9() -> None:
    records = history(sharp(day(-9), 7), daily(day(-8), [6, 6, 5, 4, 4, 3, 2, 2, 1]))
    before = evaluate(records, day(-2))
    assert (before.phase, before.day_in_phase) == ("rest", 8)
    exit_day = evaluate(records, day(-1))
    assert (exit_day.phase, exit_day.stage, exit_day.day_in_phase) == ("return", 1, 1)
    assert "REST_EXIT" in rules_of(exit_day.reasons)
    plan = evaluate(records, D)
    assert (plan.phase, plan.stage, plan.day_in_phase, plan.day_in_stage) == ("return", 1, 2, 2)
    assert plan.allowed_categories == ("mobility", "core", "low_impact")
    assert _escalations(plan) == [
        ("ACUTE_ONSET", "see_doctor", f"date:{day(-9).isoformat()}", day(-9))
    ]
    acute = plan.escalations[0]
    assert (acute.is_open, acute.closed_on) == (False, day(-1))  # the rest phase ended
    assert plan.escalation_level == "none"


def test_example_4_over_long_rest_then_clearance() -> None:
    start = day(-15)
    without_clearance = history(sharp(start, 6), daily(day(-14), [5] * 14))
    records = history(sharp(start, 6), daily(day(-14), [5] * 14), clearance(D))
    anchor = f"date:{start.isoformat()}"

    assert evaluate(records, day(-2)).phase == "rest"
    review = evaluate(records, day(-1))
    assert (review.phase, review.day_in_phase) == ("medical_review", 1)
    assert review.clearance_required
    assert {"REST_MAX", "PERSIST_14D"} <= set(rules_of(review.reasons))
    assert _escalations(review) == [
        ("ACUTE_ONSET", "see_doctor", anchor, start),
        ("PERSIST_7D", "see_doctor", anchor, day(-8)),
        ("REST_MAX", "see_doctor", anchor, day(-1)),
        ("PERSIST_14D", "see_doctor", anchor, day(-1)),
    ]
    assert evaluate(without_clearance, D).phase == "medical_review"

    plan = evaluate(records, D)
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 1)
    assert not plan.clearance_required
    assert "CLEARANCE" in rules_of(plan.reasons)
    assert _escalations(plan) == _escalations(review)  # the clearance raises nothing
    rest_max = raised(plan, "REST_MAX")[0]
    assert (rest_max.is_open, rest_max.closed_on) == (False, D)
    # The streak still runs (last logged D−1), so PERSIST_7D/14D stay open.
    assert [e.is_open for e in raised(plan, "PERSIST_7D") + raised(plan, "PERSIST_14D")] == [
        True,
        True,
    ]
    assert plan.escalation_level == "see_doctor"


def test_example_5_persistent_ache_raises_one_escalation() -> None:
    records = history(daily(day(-3), [4, 4, 4, 4], character="ache", onset="unrelated"))
    plan = evaluate(records, D)
    assert plan.phase == "active"
    assert plan.episode is None
    assert plan.escalation_level == "attention"
    expected = [("PERSIST_3D", "attention", f"date:{day(-3).isoformat()}", D)]
    assert _escalations(plan) == expected
    assert "PERSIST_3D" in rules_of(plan.advice)
    assert "PERSIST_3D" in rules_of(plan.reasons)
    # However often the plan is evaluated (every sweep), the same single (rule, anchor).
    assert _escalations(evaluate(records, D)) == expected
    for later in (day(1), day(2), day(3)):
        assert _escalations(evaluate(records, later)) == expected
    assert not evaluate(records, day(2)).escalations[0].is_open  # the streak ended on D+2


def test_example_6_bowel_bladder_is_an_emergency_on_save() -> None:
    flagged = entry(D, 3, flags=("bowel_bladder",))
    plan = evaluate(history(flagged), D)
    assert plan.phase == "medical_review"
    assert plan.escalation_level == "emergency"
    assert _escalations(plan) == [("RED_FLAG_EMERGENCY", "emergency", f"entry:{flagged.id}", D)]
    assert plan.escalations[0].is_open
    assert plan.escalations[0].anchor_date == D
    assert "RED_FLAG_EMERGENCY" not in SWEEP_ONLY_RULES  # recorded by the save itself
    assert plan.advice[0].rule == "RED_FLAG_EMERGENCY"
    assert "seek emergency care now" in plan.advice[0].text.lower()
