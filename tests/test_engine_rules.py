"""One table per rule ID of GUIDELINES.md: cases on both sides of each boundary.

Every expected value below is read off GUIDELINES.md, not off the engine.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from recovery.engine import (
    LEVEL_ORDER,
    OVERRIDE_BOUNDS,
    SWEEP_ONLY_RULES,
    Guideline,
    GuidelineError,
    evaluate,
    guideline_with_overrides,
    level_rank,
    max_level,
)
from recovery.engine.inputs import RULE_IDS, Rule
from recovery.engine.texts import ordinal, when
from tests.engine_factories import (
    RETURN_STARTS,
    D,
    clearance,
    daily,
    day,
    entry,
    history,
    into_return,
    raised,
    rules_of,
    sharp,
    workout,
)

ALL = (
    "mobility", "core", "low_impact", "strength_light", "high_impact", "heavy_strength",
    "olympic", "twisting", "extension_yoga", "pivot_sport",
)  # fmt: skip


def test_every_rule_id_of_the_guidelines_is_known() -> None:
    expected = {
        "RED_FLAG_EMERGENCY", "RED_FLAG_URGENT", "ACUTE_ONSET", "DOMS", "COLD_FIRST_48H",
        "HEAT_OR_COLD", "REST_MIN", "REST_EXIT", "REST_MAX", "PERSIST_3D", "PERSIST_7D",
        "PERSIST_14D", "CHRONIC_3M", "RECURRENCE", "RECURRENCE_REPEAT", "STAGE_ADVANCE",
        "RETURN_COMPLETE", "CLEARANCE", "MISSED_LOGS", "NON_ADHERENCE", "LOAD_SPIKE",
    }  # fmt: skip
    assert expected == RULE_IDS


# --- RED_FLAG_EMERGENCY / RED_FLAG_URGENT ------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "character", "flags", "level"),
    [
        (2, "ache", ("bowel_bladder",), "emergency"),
        (2, "ache", ("saddle_numbness",), "emergency"),
        (0, "stiffness", ("leg_paralysis",), "emergency"),
        (9, "sharp", (), "emergency"),
        (10, "shooting", (), "emergency"),
        (3, "ache", ("leg_numbness",), "urgent"),
        (3, "ache", ("leg_weakness",), "urgent"),
        (3, "ache", ("night_pain",), "urgent"),
        (4, "ache", ("leg_numbness", "bowel_bladder"), "emergency"),
    ],
)
def test_red_flag_opens_medical_review(score, character, flags, level) -> None:
    plan = evaluate(history(entry(D, score, character, "unrelated", flags)), D)
    assert plan.phase == "medical_review"
    assert plan.clearance_required
    assert plan.allowed_categories == ("mobility",)
    assert plan.escalation_level == level
    assert plan.episode is not None
    assert plan.episode.start == D


@pytest.mark.parametrize(
    ("score", "character"), [(8, "sharp"), (9, "ache"), (10, "stiffness"), (8, "shooting")]
)
def test_no_red_flag_below_nine_or_without_sharp_pain(score, character) -> None:
    plan = evaluate(history(entry(D, score, character, "unrelated")), D)
    assert plan.phase == "active"
    assert plan.escalations == ()


def test_both_red_flags_on_one_entry_raise_both_anchored_to_it() -> None:
    flagged = entry(D, 3, flags=("leg_numbness", "bowel_bladder"))
    plan = evaluate(history(flagged), D)
    assert {(e.rule, e.anchor) for e in plan.escalations} == {
        ("RED_FLAG_EMERGENCY", f"entry:{flagged.id}"),
        ("RED_FLAG_URGENT", f"entry:{flagged.id}"),
    }
    assert plan.escalation_level == "emergency"


def test_emergency_advice_says_seek_emergency_care_now() -> None:
    plan = evaluate(history(entry(D, 2, flags=("saddle_numbness",))), D)
    emergency = [i.text for i in plan.advice if i.rule == "RED_FLAG_EMERGENCY"]
    assert any("seek emergency care now" in text.lower() for text in emergency)
    assert any("emergency services" in text for text in emergency)


def test_an_open_emergency_leaves_out_the_48_hour_advice() -> None:
    plan = evaluate(history(entry(D, 5, flags=("saddle_numbness", "leg_weakness"))), D)
    assert advice_of(plan, "RED_FLAG_EMERGENCY")[0].startswith("Seek emergency care now:")
    assert not advice_of(plan, "RED_FLAG_URGENT")
    assert not [i.text for i in plan.advice if "48 hours" in i.text]
    # Both escalations are still open, and both are reasons.
    assert {i.rule for i in plan.reasons} >= {"RED_FLAG_EMERGENCY", "RED_FLAG_URGENT"}


def test_emergency_advice_on_a_later_day_names_the_day_reported() -> None:
    records = history(entry(day(-30), 2, flags=("leg_paralysis",)))
    later = evaluate(records, D)
    assert later.phase == "medical_review"
    assert advice_of(later, "RED_FLAG_EMERGENCY")[0] == (
        "On 18 February 2025 you reported a symptom that needs emergency care. If you have not "
        "been seen yet, seek emergency care now: call emergency services (911, 112 or 999) or "
        "have someone take you to the nearest emergency department. Do not drive yourself, and "
        "do not exercise."
    )
    # A second report today brings back the plain call to act.
    again = evaluate(history(records, entry(D, 2, flags=("bowel_bladder",))), D)
    assert advice_of(again, "RED_FLAG_EMERGENCY")[0].startswith("Seek emergency care now:")


def test_urgent_advice_names_the_report_whose_48_hours_run_out_first() -> None:
    records = history(
        entry(day(-2), 2, flags=("leg_numbness",)), entry(D, 2, flags=("night_pain",))
    )
    (urgent,) = [t for t in advice_of(evaluate(records, D), "RED_FLAG_URGENT") if "48" in t]
    assert urgent.startswith("On 18 March 2025 you reported a symptom that needed a doctor")
    assert "see one today" in urgent


def test_urgent_advice_says_within_48_hours_and_is_not_an_emergency() -> None:
    plan = evaluate(history(entry(D, 2, flags=("night_pain",))), D)
    urgent = [i.text for i in plan.advice if i.rule == "RED_FLAG_URGENT"]
    assert any("within 48 hours" in text for text in urgent)
    assert not any("seek emergency care now" in i.text.lower() for i in plan.advice)


def test_sharp_nine_during_exercise_is_an_emergency_and_not_also_acute_onset() -> None:
    plan = evaluate(history(sharp(D, 9)), D)
    assert [e.rule for e in plan.escalations] == ["RED_FLAG_EMERGENCY"]
    assert plan.episode.trigger_rule == "RED_FLAG_EMERGENCY"


def test_red_flag_in_rest_moves_the_episode_to_review() -> None:
    plan = evaluate(history(sharp(day(-3)), entry(D, 3, flags=("leg_weakness",))), D)
    assert plan.phase == "medical_review"
    assert plan.day_in_phase == 1
    assert plan.episode.start == day(-3)
    acute = raised(plan, "ACUTE_ONSET")[0]
    assert (acute.is_open, acute.closed_on) == (False, D)  # the rest phase ended


def test_new_red_flag_in_review_raises_again_without_restarting_it() -> None:
    first = entry(day(-2), 2, flags=("night_pain",))
    second = entry(D, 2, flags=("night_pain",))
    plan = evaluate(history(first, second), D)
    assert plan.phase == "medical_review"
    assert plan.day_in_phase == 3
    assert [e.anchor for e in raised(plan, "RED_FLAG_URGENT")] == [
        f"entry:{first.id}",
        f"entry:{second.id}",
    ]


# --- ACUTE_ONSET -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "character", "onset", "fires"),
    [
        (2, "sharp", "during_exercise", True),
        (3, "shooting", "after_exercise", True),
        (7, "ache", "during_exercise", True),
        (6, "ache", "during_exercise", False),
        (7, "stiffness", "after_exercise", True),
        (8, "sharp", "unrelated", False),
        (8, "sharp", "delayed", False),
        (7, "ache", "delayed", False),
    ],
)
def test_acute_onset(score, character, onset, fires) -> None:
    plan = evaluate(history(entry(D, score, character, onset)), D)
    assert (plan.phase == "rest") is fires
    assert (rules_of(plan.escalations) == ["ACUTE_ONSET"]) is fires
    if fires:
        assert plan.escalation_level == "see_doctor"
        assert plan.episode.trigger_rule == "ACUTE_ONSET"
        assert plan.escalations[0].anchor == f"date:{D.isoformat()}"
        assert plan.day_in_phase == 1


def test_acute_onset_only_outside_an_episode() -> None:
    start = day(-20)
    # In return stage 1 a sharp pain during exercise is a flare, not a new onset.
    plan = evaluate(history(into_return(start, 10), sharp(day(-9))), day(-9))
    assert rules_of(plan.escalations) == ["ACUTE_ONSET", "RECURRENCE"]
    assert plan.episode.start == start


# --- DOMS --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workout_days_before", "score", "character", "onset", "flags", "fires"),
    [
        (1, 3, "ache", "delayed", (), True),
        (2, 6, "stiffness", "delayed", (), True),
        (3, 3, "ache", "delayed", (), True),
        (4, 3, "ache", "delayed", (), False),
        (0, 3, "ache", "delayed", (), False),
        (None, 3, "ache", "delayed", (), False),
        (2, 7, "ache", "delayed", (), False),
        (2, 3, "sharp", "delayed", (), False),
        (2, 3, "ache", "after_exercise", (), False),
        (2, 3, "ache", "delayed", ("night_pain",), False),
    ],
)
def test_doms(workout_days_before, score, character, onset, flags, fires) -> None:
    records = [entry(D, score, character, onset, flags)]
    if workout_days_before is not None:
        records.append(workout(day(-workout_days_before), "deadlift", 45, 8))
    plan = evaluate(history(*records), D)
    assert ("DOMS" in rules_of(plan.advice)) is fires
    if fires:
        assert plan.phase == "active"
        assert not plan.escalations  # DOMS is info: it raises nothing


def test_doms_in_rest_gives_advice_and_changes_nothing_else() -> None:
    records = [sharp(day(-3)), workout(day(-1), "walking", 20, 2), entry(D, 3, onset="delayed")]
    plan = evaluate(history(*records), D)
    assert plan.phase == "rest"
    assert plan.day_in_phase == 4
    assert "DOMS" in rules_of(plan.advice)


def test_doms_advice_talks_about_soreness_heat_and_stretching() -> None:
    plan = evaluate(history(workout(day(-1), "squat", 40, 7), entry(D, 2, onset="delayed")), D)
    text = next(i.text for i in plan.advice if i.rule == "DOMS").lower()
    for words in ("24–72 hours", "heat", "stretch", "massage", "water"):
        assert words in text


def test_doms_in_medical_review_says_the_plan_still_holds() -> None:
    # Soreness must not read as the explanation that lets a patient in review train again.
    records = [entry(day(-2), 3, flags=("night_pain",)), workout(day(-1), "stretching", 20, 2)]
    plan = evaluate(history(*records, entry(D, 3, "ache", "delayed")), D)
    assert plan.phase == "medical_review"
    text = next(i.text for i in plan.advice if i.rule == "DOMS")
    assert text.endswith("It does not change your plan: keep to it.")


def test_doms_counts_a_workout_of_any_effort() -> None:
    # RPE 0 is a valid workout (GUIDELINES.md: `rpe` 0–10), though its session load is 0.
    records = history(workout(day(-2), "stretching", 30, 0), entry(D, 3, "ache", "delayed"))
    assert "DOMS" in rules_of(evaluate(records, D).advice)


# --- COLD_FIRST_48H / HEAT_OR_COLD / REST_MIN --------------------------------------------------


@pytest.mark.parametrize(
    ("rest_day", "cold", "heat"), [(1, True, False), (2, True, False), (3, False, True)]
)
def test_cold_for_the_first_48_hours_then_heat_or_cold(rest_day, cold, heat) -> None:
    plan = evaluate(history(sharp(D)), day(rest_day - 1))
    assert plan.day_in_phase == rest_day
    assert ("COLD_FIRST_48H" in rules_of(plan.advice)) is cold
    assert ("HEAT_OR_COLD" in rules_of(plan.advice)) is heat


@pytest.mark.parametrize(("rest_day", "cold"), [(1, True), (2, True), (3, False)])
def test_a_rest_after_a_flare_begins_with_48_hours_of_cold(rest_day, cold) -> None:
    # RECURRENCE: "back to rest, day 1 = the flare's date", so the cold days count from it,
    # not from the episode's first day.
    start = day(-40)
    flare_day = start + timedelta(days=RETURN_STARTS + 5)
    records = history(
        into_return(start, RETURN_STARTS + 4), entry(flare_day, 5),
        daily(flare_day + timedelta(days=1), [5, 5]),
    )  # fmt: skip
    plan = evaluate(records, flare_day + timedelta(days=rest_day - 1))
    assert (plan.phase, plan.day_in_phase) == ("rest", rest_day)
    assert ("COLD_FIRST_48H" in rules_of(plan.advice)) is cold
    assert ("HEAT_OR_COLD" in rules_of(plan.advice)) is not cold


def test_cold_advice_wording() -> None:
    text = next(i.text for i in evaluate(history(sharp(D)), D).advice if i.rule == "COLD_FIRST_48H")
    assert "15–20 minutes" in text
    assert "cloth" in text
    assert "heat" in text.lower()


def test_rest_advice_names_relative_rest_stretches_and_isometric_core() -> None:
    plan = evaluate(history(sharp(D)), D)
    text = " ".join(i.text for i in plan.advice).lower()
    for words in (
        "stay gently active", "avoid", "knee-to-chest", "child's pose", "press-up", "bridge",
        "pelvic tilt", "isometric core",
    ):  # fmt: skip
        assert words in text
    # The urgent red flags' signs carry RED_FLAG_URGENT's deadline, and the emergency signs
    # RED_FLAG_EMERGENCY's.
    assert "within 48 hours, and log it, if you feel numbness or tingling down your legs" in text
    assert "emergency care straight away if you lose control of your bladder" in text
    assert plan.max_rpe == 3
    assert plan.allowed_categories == ("mobility", "core", "low_impact")


def test_rest_advice_names_every_urgent_sign_as_the_guidelines_word_it() -> None:
    # RED_FLAG_URGENT: leg_numbness (numbness or tingling down the legs, with or without
    # pain), leg_weakness (weakness, cramping, loss of coordination), night_pain (severe pain
    # disrupting sleep): each needs a doctor within 48 hours.
    (text,) = [i.text for i in evaluate(history(sharp(D)), D).advice if "within 48 hours" in i.text]
    urgent = text.split("within 48 hours")[1].split("Get emergency care")[0]
    for words in (
        "numbness or tingling down your legs", "weakness", "cramping",
        "loss of coordination", "severe pain that disrupts your sleep",
    ):  # fmt: skip
        assert words in urgent
    # Numbness or tingling alone is enough: it is not only a sign when pain spreads too.
    assert "pain spreads" not in urgent


def test_no_rest_advice_outside_rest() -> None:
    plan = evaluate(history(entry(D, 2)), D)
    assert not {"COLD_FIRST_48H", "HEAT_OR_COLD", "REST_MIN"} & set(rules_of(plan.advice))


@pytest.mark.parametrize(("rest_day", "named"), [(1, True), (6, True), (7, False), (9, False)])
def test_rest_min_is_a_reason_until_the_minimum(rest_day, named) -> None:
    # Scores stay at 5, so REST_EXIT never lets the patient out.
    plan = evaluate(history(sharp(D), daily(day(1), [5] * 10)), day(rest_day - 1))
    assert plan.phase == "rest"
    assert ("REST_MIN" in rules_of(plan.reasons)) is named


# --- REST_EXIT ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores_after_onset", "exit_day"),
    [
        # Scores for rest days 2, 3, …
        ([1] * 10, 7),  # rest day 7 is the first day allowed
        ([5, 5, 5, 5, 2, 2, 2], 7),
        ([5, 5, 5, 5, 5, 2, 2], 8),
        ([5, 5, 5, 5, 5, 5, 2, 2], 9),
        ([5, 5, 5, 5, 2, 3, 2, 2], 9),  # a 3 on rest day 7 spoils rest days 7 and 8
    ],
)
def test_rest_exit_day(scores_after_onset, exit_day) -> None:
    records = history(sharp(D), daily(day(1), scores_after_onset))
    before = evaluate(records, day(exit_day - 2))
    after = evaluate(records, day(exit_day - 1))
    assert before.phase == "rest"
    assert (after.phase, after.stage, after.day_in_phase) == ("return", 1, 1)
    assert "REST_EXIT" in rules_of(after.reasons)


@pytest.mark.parametrize(
    ("logged_offsets", "exits"),
    [
        ((5, 6), True),  # D−1 and D
        ((4, 6), True),  # D−2 and D (one unlogged day between)
        ((3, 6), False),  # D−3 lies outside D−2…D
        ((6,), False),  # only one logged day since the rest began
        ((4, 5), True),  # nothing logged on D, both latest still within D−2…D
        ((3, 4), False),  # the earlier of the latest two is D−3
    ],
)
def test_rest_exit_needs_two_latest_logs_within_the_last_three_days(logged_offsets, exits) -> None:
    # The onset day is logged too (score 8), so it never counts as an improved day.
    records = history(sharp(D, 8), [entry(day(k), 1) for k in logged_offsets])
    plan = evaluate(records, day(6))  # rest day 7, the first day REST_EXIT may act
    assert (plan.phase == "return") is exits


@pytest.mark.parametrize("minimum", [1, 2])
def test_rest_exit_counts_only_the_logs_of_the_rest_itself(minimum) -> None:
    # Scores of 1 up to the day before a sharp flare scored 1: the flare's rest has one
    # logged day on its day 1 and day 2, so it cannot end there, whatever came before it.
    g = guideline_with_overrides({"rest_after_flare_days": minimum})
    start = day(-40)
    flare_day = start + timedelta(days=RETURN_STARTS + 5)
    records = history(into_return(start, RETURN_STARTS + 4), sharp(flare_day, 1))
    plan = evaluate(records, flare_day + timedelta(days=minimum - 1), g)
    assert (plan.phase, plan.day_in_phase) == ("rest", minimum)


# A sharp entry logged after the flare on the flare's own day is the same flare
# (interpretation 11 restarts the minimum only for one dated after the rest's first day).
@pytest.mark.parametrize("same_day_sharp", [(), (5,)], ids=["flare", "flare_and_sharp"])
def test_rest_exit_after_a_flare_drops_one_stage_and_needs_three_days(same_day_sharp) -> None:
    start = day(-60)
    stage3 = start + timedelta(days=RETURN_STARTS + 28)
    flare_day = stage3 + timedelta(days=2)
    records = history(
        sharp(start), daily(start + timedelta(days=1), [1] * 35), entry(flare_day, 5),
        [sharp(flare_day, score) for score in same_day_sharp],
        daily(flare_day + timedelta(days=1), [1, 1, 1]),
    )  # fmt: skip
    assert evaluate(records, stage3).stage == 3
    on_day_2 = evaluate(records, flare_day + timedelta(days=1))
    assert (on_day_2.phase, on_day_2.day_in_phase) == ("rest", 2)
    assert "REST_MIN" in rules_of(on_day_2.reasons)
    on_day_3 = evaluate(records, flare_day + timedelta(days=2))
    assert (on_day_3.phase, on_day_3.stage) == ("return", 2)


def test_rest_exit_after_a_flare_in_stage_1_stays_at_stage_1() -> None:
    start = day(-30)
    flare_day = start + timedelta(days=RETURN_STARTS + 2)
    records = history(
        sharp(start), daily(start + timedelta(days=1), [1] * (RETURN_STARTS + 1)),
        entry(flare_day, 4), daily(flare_day + timedelta(days=1), [1, 1]),
    )  # fmt: skip
    plan = evaluate(records, flare_day + timedelta(days=2))
    assert (plan.phase, plan.stage) == ("return", 1)


# --- new sharp pain during rest (interpretation 11) -------------------------------------------


@pytest.mark.parametrize(
    ("score", "character", "onset", "restarts"),
    [
        (8, "sharp", "during_exercise", True),
        (2, "shooting", "after_exercise", True),  # sharp or shooting at any score
        (7, "ache", "during_exercise", True),  # acute_min_score
        (6, "ache", "during_exercise", False),
        (8, "sharp", "unrelated", False),  # not exercise-related
        (8, "sharp", "delayed", False),
    ],
)
def test_a_new_injury_during_rest_restarts_the_rest_minimum(
    score, character, onset, restarts
) -> None:
    # Onset on D; ACUTE_ONSET's kind of entry again on rest day 6; score 1 on every other day.
    records = history(
        sharp(D), daily(day(1), [1] * 4), entry(day(5), score, character, onset),
        daily(day(6), [1] * 8),
    )  # fmt: skip
    # A restart counts 7 days from rest day 6: rest day 12. Otherwise REST_EXIT as written:
    # the entry of rest day 6 is one of the two latest logs on rest day 7, not on day 8.
    exit_day = day(11) if restarts else day(7)
    assert evaluate(records, exit_day - timedelta(days=1)).phase == "rest"
    plan = evaluate(records, exit_day)
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 1)
    assert rules_of(plan.escalations) == ["ACUTE_ONSET"]  # the episode's one: nothing new
    assert plan.episode.start == D


def test_a_rest_minimum_restarted_says_why() -> None:
    records = history(sharp(D), daily(day(1), [1] * 4), sharp(day(5), 8), daily(day(6), [1] * 3))
    plan = evaluate(records, day(8))  # rest day 9
    assert [i.text for i in plan.reasons if i.rule == "REST_MIN"] == [
        f"Sharp or severe pain during or after exercise on {when(day(5).toordinal())} may be "
        "a new injury, so your minimum rest of 7 days counts again from that day: you can "
        "start returning to exercise on rest day 12 at the earliest (today is rest day 9)."
    ]
    assert (plan.phase, plan.day_in_phase) == ("rest", 9)


def test_a_new_injury_on_the_rests_first_day_changes_nothing() -> None:
    # A second entry on the onset's own day is the same injury.
    records = history(sharp(D), sharp(D, 8), daily(day(1), [1] * 6))
    plan = evaluate(records, day(6))
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 1)


def test_a_new_injury_never_shortens_a_longer_rest_after_a_flare() -> None:
    # A flare on day 8 rests 7 days (to rest day 7, day 14). Sharp pain 1 during exercise on
    # its rest day 2 restarts a minimum of only 3 days (rest day 5), which must not win.
    g = guideline_with_overrides({"rest_min_days": 3, "rest_after_flare_days": 7})
    records = history(
        into_return(D, 8), entry(day(8), 5), sharp(day(9), 1), daily(day(10), [1] * 8)
    )
    assert evaluate(records, day(7), g).phase == "return"
    waiting = evaluate(records, day(13), g)  # rest day 6
    assert (waiting.phase, waiting.day_in_phase) == ("rest", 6)
    assert "on rest day 7 at the earliest" in reason_of(waiting, "REST_MIN")[0]
    plan = evaluate(records, day(14), g)
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 1)


def test_a_new_injury_late_in_a_rest_does_not_put_off_rest_max() -> None:
    # On rest day 10 the restarted minimum would end on rest day 16, past rest_max_days;
    # without the restart, REST_EXIT would come on rest day 12.
    records = history(sharp(D), daily(day(1), [5] * 8), sharp(day(9), 8), daily(day(10), [1] * 6))
    assert evaluate(records, day(13)).phase == "rest"  # rest day 14
    plan = evaluate(records, day(14))  # rest day 15
    assert plan.phase == "medical_review"
    assert rules_of(plan.reasons)[0] == "REST_MAX"


def test_a_restarted_rest_minimum_past_rest_max_does_not_promise_a_return() -> None:
    # The same case: the restarted minimum would end on rest day 16, but REST_MAX sends the
    # patient to a doctor on rest day 15, so "returning … on rest day 16" never happens.
    records = history(sharp(D), daily(day(1), [5] * 8), sharp(day(9), 8), daily(day(10), [1] * 6))
    plan = evaluate(records, day(11))  # rest day 12
    assert (plan.phase, plan.day_in_phase) == ("rest", 12)
    assert reason_of(plan, "REST_MIN") == [
        f"Sharp or severe pain during or after exercise on {when(day(9).toordinal())} may be "
        "a new injury, so your minimum rest of 7 days counts again from that day. That runs "
        "past your longest rest of 14 days, so on rest day 15 you will be asked to see a "
        "doctor before you return to exercise (today is rest day 12)."
    ]
    assert evaluate(records, day(14)).phase == "medical_review"  # rest day 15, as it says
    # With one day of slack, REST_EXIT on rest day 15 still comes before REST_MAX.
    g = guideline_with_overrides({"rest_max_days": 15})
    assert (
        "on rest day 16 at the earliest" in reason_of(evaluate(records, day(11), g), "REST_MIN")[0]
    )


def test_a_restarted_rest_minimum_past_rest_max_names_both_overridden_values() -> None:
    # The plan names every overridden value it words (GUIDELINES.md): here the longest rest
    # as well as the minimum. The minimum of 8 counts from day 9, to rest day 17, past
    # rest day 14, when REST_MAX (13 days) sends the patient to a doctor.
    g = guideline_with_overrides({"rest_min_days": 8, "rest_max_days": 13})
    records = history(sharp(D), daily(day(1), [5] * 8), sharp(day(9), 8), daily(day(10), [1] * 6))
    plan = evaluate(records, day(11), g)  # rest day 12
    assert reason_of(plan, "REST_MIN") == [
        f"Sharp or severe pain during or after exercise on {when(day(9).toordinal())} may be "
        "a new injury, so your minimum rest of 8 days counts again from that day. That runs "
        "past your longest rest of 13 days, so on rest day 14 you will be asked to see a "
        "doctor before you return to exercise (today is rest day 12). Your therapist set "
        "your minimum rest after an injury to 8 days (usually 7 days). Your therapist set "
        "your longest rest before a doctor's review to 13 days (usually 14 days)."
    ]
    assert evaluate(records, day(13), g).phase == "medical_review"  # rest day 14, as it says


def test_a_new_injury_in_a_flare_rest_needs_the_full_rest_minimum() -> None:
    start = day(-40)
    flare_day = start + timedelta(days=RETURN_STARTS + 5)  # return stage 1
    records = history(
        into_return(start, RETURN_STARTS + 4), entry(flare_day, 5),
        entry(flare_day + timedelta(days=1), 1), sharp(flare_day + timedelta(days=2), 6),
        daily(flare_day + timedelta(days=3), [1] * 10),
    )  # fmt: skip
    # Without it, the flare's rest would end on its day 5 (two logs of 1 after the 6).
    assert evaluate(records, flare_day + timedelta(days=7)).phase == "rest"  # rest day 8
    plan = evaluate(records, flare_day + timedelta(days=8))  # rest day 9: 7 days from day 3
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 1)


# --- REST_MAX ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("rest_day", "phase"), [(14, "rest"), (15, "medical_review")])
def test_rest_max(rest_day, phase) -> None:
    # Never two improved days in a row, so REST_EXIT never acts.
    records = history(sharp(D, 4), daily(day(1), [3, 2] * 10))
    plan = evaluate(records, day(rest_day - 1))
    assert plan.phase == phase
    rest_max = raised(plan, "REST_MAX")
    assert bool(rest_max) is (phase == "medical_review")
    if rest_max:
        assert rest_max[0].anchor == f"date:{D.isoformat()}"
        assert rest_max[0].level == "see_doctor"
        assert plan.reasons[0].rule == "REST_MAX"


def test_rest_exit_on_day_15_wins_over_rest_max() -> None:
    records = history(sharp(D), daily(day(1), [5] * 12 + [2, 2]))
    plan = evaluate(records, day(14))
    assert (plan.phase, plan.stage) == ("return", 1)
    assert not raised(plan, "REST_MAX")


def test_every_over_long_rest_leads_to_review_flare_rest_included() -> None:
    start = day(-60)
    flare_day = start + timedelta(days=RETURN_STARTS + 3)
    records = history(
        sharp(start), daily(start + timedelta(days=1), [1] * (RETURN_STARTS + 2)),
        entry(flare_day, 6), daily(flare_day + timedelta(days=1), [4] * 20),
    )  # fmt: skip
    plan = evaluate(records, flare_day + timedelta(days=14))  # rest day 15
    assert plan.phase == "medical_review"
    assert raised(plan, "REST_MAX")[0].anchor == f"date:{flare_day.isoformat()}"


def test_rest_max_and_missed_logs_are_sweep_only() -> None:
    assert frozenset({"MISSED_LOGS", "REST_MAX"}) == SWEEP_ONLY_RULES


# --- PERSIST_3D / PERSIST_7D / PERSIST_14D -----------------------------------------------------


def _streak(offsets: list[int], score: int = 4) -> list:
    return [entry(day(k), score) for k in offsets]


@pytest.mark.parametrize(
    ("offsets", "fires", "first"),
    [
        ([-2, -1, 0], False, None),
        ([-3, -2, -1, 0], True, -3),
        ([-3, -1, 0], True, -3),  # one unlogged day inside: still one streak of 4 days
        ([-4, -1, 0], False, None),  # two unlogged days break it
        ([-4, -3, -2, -1], True, -4),  # nothing logged today: the streak still runs
        ([-5, -4, -3, -2], False, None),  # latest log before D−1: no current streak
    ],
)
def test_persist_3d(offsets, fires, first) -> None:
    plan = evaluate(history(_streak(offsets)), D)
    open_ones = [e for e in raised(plan, "PERSIST_3D") if e.is_open]
    assert bool(open_ones) is fires
    if fires:
        assert open_ones[0].anchor == f"date:{day(first).isoformat()}"
        assert plan.escalation_level == "attention"


def test_the_daily_score_is_the_days_highest_not_its_latest() -> None:
    # Each day a 5, then a 1 recorded after it: S(d) is 5, so the streak runs.
    records = history([e for k in range(-3, 1) for e in (entry(day(k), 5), entry(day(k), 1))])
    assert raised(evaluate(records, D), "PERSIST_3D")


def test_persist_streak_ends_with_a_non_pain_day() -> None:
    plan = evaluate(history(_streak([-4, -3, -2, -1]), entry(D, 2)), D)
    persist = raised(plan, "PERSIST_3D")[0]
    assert (persist.raised_on, persist.is_open, persist.closed_on) == (day(-1), False, D)
    assert plan.escalation_level == "none"


def test_persist_streak_ends_after_two_unlogged_days() -> None:
    records = history(_streak([-5, -4, -3, -2]))
    assert raised(evaluate(records, day(-1)), "PERSIST_3D")[0].is_open
    closed = raised(evaluate(records, D), "PERSIST_3D")[0]
    assert (closed.is_open, closed.closed_on) == (False, D)


@pytest.mark.parametrize(("score", "fires"), [(2, False), (3, True)])
def test_pain_day_minimum(score, fires) -> None:
    plan = evaluate(history(_streak([-3, -2, -1, 0], score)), D)
    assert bool(raised(plan, "PERSIST_3D")) is fires


def test_persist_3d_only_in_active() -> None:
    plan = evaluate(history(sharp(day(-3)), _streak([-2, -1, 0])), D)
    assert plan.phase == "rest"
    assert not raised(plan, "PERSIST_3D")


@pytest.mark.parametrize(("length", "fires"), [(7, False), (8, True)])
def test_persist_7d(length, fires) -> None:
    plan = evaluate(history(_streak(list(range(1 - length, 1)))), D)
    assert bool(raised(plan, "PERSIST_7D")) is fires
    if fires:
        assert plan.escalation_level == "see_doctor"
        assert "PERSIST_7D" in rules_of(plan.advice)


@pytest.mark.parametrize(("length", "phase"), [(14, "active"), (15, "medical_review")])
def test_persist_14d_opens_an_episode_in_review(length, phase) -> None:
    plan = evaluate(history(_streak(list(range(1 - length, 1)))), D)
    assert plan.phase == phase
    if phase == "medical_review":
        assert plan.episode.start == D
        assert plan.episode.trigger_rule == "PERSIST_14D"
        assert raised(plan, "PERSIST_14D")[0].anchor == f"date:{day(1 - length).isoformat()}"


def test_persist_14d_moves_a_return_to_medical_review() -> None:
    # "any phase": a streak of 3s (pain days, below the flare minimum) in return.
    start = day(-40)
    streak_from = start + timedelta(days=RETURN_STARTS + 1)
    records = history(into_return(start, RETURN_STARTS), daily(streak_from, [3] * 15))
    assert evaluate(records, streak_from + timedelta(days=13)).phase == "return"
    plan = evaluate(records, streak_from + timedelta(days=14))
    assert (plan.phase, plan.day_in_phase, plan.clearance_required) == ("medical_review", 1, True)
    assert plan.reasons[0].rule == "PERSIST_14D"
    assert plan.episode.start == start  # the same episode, now in review


def test_persist_14d_during_a_review_does_not_restart_it() -> None:
    # As for a new red flag: the review that began with the urgent flag goes on.
    records = history(entry(day(-14), 5, flags=("night_pain",)), daily(day(-13), [5] * 14))
    plan = evaluate(records, D)  # the streak's day 15
    assert [e.raised_on for e in plan.escalations if e.rule == "PERSIST_14D"] == [D]
    assert (plan.phase, plan.day_in_phase) == ("medical_review", 15)
    assert plan.reasons[0].rule == "RED_FLAG_URGENT"


def test_same_streak_does_not_send_the_patient_back_to_review_after_a_clearance() -> None:
    # Pain of 3 every day: a pain day, but below the flare minimum in return.
    records = history(_streak(list(range(-20, 1)), 3), clearance(day(-3)))
    plan = evaluate(records, D)
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 4)
    assert len(raised(plan, "PERSIST_14D")) == 1
    assert plan.escalation_level == "see_doctor"  # PERSIST_* stay open while the streak runs


# --- CHRONIC_3M --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pain_offsets", "raised_offsets"),
    [
        # One pain day a week: 13 windows hold on D and on no day before it.
        ([-7 * k for k in range(13)], [0]),
        ([-7 * k for k in range(12)], []),  # only 12 windows can ever hold
        ([-7 * k for k in range(1, 13)], []),
        ([-7 * k - 1 for k in range(13)], [-1]),  # on D−2, D−92…D−86 holds none
        ([-7 * k - 6 for k in range(13)], [-6]),  # each window's earliest day, on D−6
        ([-7 * k for k in range(14) if k != 6], []),  # the gap leaves a window empty
    ],
)
def test_chronic_3m_needs_all_13_windows(pain_offsets, raised_offsets) -> None:
    plan = evaluate(history([entry(day(k), 3) for k in pain_offsets]), D)
    chronic = raised(plan, "CHRONIC_3M")
    assert [e.raised_on for e in chronic] == [day(k) for k in raised_offsets]
    assert [e.anchor for e in chronic] == [f"date:{day(k).isoformat()}" for k in raised_offsets]
    assert ("CHRONIC_3M" in rules_of(plan.advice)) is bool(raised_offsets)
    if raised_offsets:
        assert chronic[0].level == "attention"
        assert plan.escalation_level == "attention"


@pytest.mark.parametrize(("score", "fires"), [(2, False), (3, True)])
def test_chronic_3m_counts_pain_days_only(score, fires) -> None:
    plan = evaluate(history([entry(day(-7 * k), score) for k in range(13)]), D)
    assert bool(raised(plan, "CHRONIC_3M")) is fires


def test_chronic_3m_windows_are_seven_days_long() -> None:
    # A pain day every 8 days, and a pain-free log the day before each: D−55…D−49 holds no
    # pain day, so no day has all 13 windows holding one (eight-day windows would).
    pain = [entry(day(-8 * k), 3) for k in range(12)]
    calm = [entry(day(-8 * k - 1), 0) for k in range(12)]
    assert not raised(evaluate(history(pain, calm), D), "CHRONIC_3M")


def test_persist_is_applied_before_chronic_3m_on_the_same_day() -> None:
    # "Order": … PERSIST_*, CHRONIC_3M …; a plan lists escalations in the order raised.
    records = history([entry(day(-7 * k), 3) for k in range(1, 13)], daily(day(-3), [3] * 4))
    plan = evaluate(records, D)
    assert [(e.rule, e.raised_on) for e in plan.escalations] == [
        ("PERSIST_3D", D),
        ("CHRONIC_3M", D),
    ]


def test_chronic_3m_at_most_once_in_91_days_and_open_for_7() -> None:
    weekly = [entry(day(-7 * k), 3) for k in range(40)]
    first = day(-7 * 39 + 84)
    plan = evaluate(history(weekly), D)
    assert [e.raised_on for e in raised(plan, "CHRONIC_3M")] == [
        first,
        first + timedelta(days=91),
        first + timedelta(days=182),
    ]
    on_day_7 = evaluate(history(weekly), first + timedelta(days=7))
    assert (raised(on_day_7, "CHRONIC_3M")[0].closed_on) == first + timedelta(days=7)
    on_day_6 = evaluate(history(weekly), first + timedelta(days=6))
    assert raised(on_day_6, "CHRONIC_3M")[0].is_open


# --- RECURRENCE / RECURRENCE_REPEAT ------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "character", "onset", "fires"),
    [
        (4, "ache", "unrelated", True),
        (3, "ache", "unrelated", False),
        (1, "sharp", "during_exercise", True),
        (1, "shooting", "after_exercise", True),
        (2, "sharp", "unrelated", False),
        (3, "stiffness", "delayed", False),
    ],
)
def test_recurrence_in_return(score, character, onset, fires) -> None:
    start = day(-20)
    flare_day = start + timedelta(days=RETURN_STARTS + 5)
    flare = entry(flare_day, score, character, onset)
    records = history(into_return(start, 10), flare)
    plan = evaluate(records, flare_day)
    assert plan.phase == ("rest" if fires else "return")
    if fires:
        assert plan.day_in_phase == 1
        recurrence = raised(plan, "RECURRENCE")[0]
        assert (recurrence.anchor, recurrence.level) == (f"entry:{flare.id}", "attention")
        assert plan.episode.flare_count == 1
        assert plan.reasons[0].rule == "RECURRENCE"


def test_return_advice_names_what_counts_as_a_flare() -> None:
    # RECURRENCE's exercise-related sharp pain includes onset `after_exercise` (within hours).
    start = day(-20)
    on = start + timedelta(days=RETURN_STARTS + 5)
    records = history(into_return(start, 10))
    text = next(i.text for i in evaluate(records, on).advice if "stop and log it" in i.text)
    assert "4 out of 10 or more" in text
    assert "sharp or shooting pain during exercise or in the hours after it" in text
    flared = history(records, entry(on + timedelta(days=1), 2, "sharp", "after_exercise"))
    plan = evaluate(flared, on + timedelta(days=1))
    assert (plan.phase, plan.episode.start, plan.episode.flare_count) == ("rest", start, 1)
    assert plan.reasons[0].rule == "RECURRENCE"


def test_recurrence_repeat_sends_the_second_flare_to_review() -> None:
    start = day(-40)
    first_flare = start + timedelta(days=RETURN_STARTS + 2)
    second_flare = first_flare + timedelta(days=6)
    first, second = entry(first_flare, 6), entry(second_flare, 5)
    records = history(into_return(start, 30), first, second)
    plan = evaluate(records, second_flare)
    assert plan.phase == "medical_review"
    assert plan.episode.flare_count == 2
    assert [(e.rule, e.anchor, e.level) for e in plan.escalations[1:]] == [
        ("RECURRENCE", f"entry:{first.id}", "attention"),
        ("RECURRENCE_REPEAT", f"entry:{second.id}", "see_doctor"),
    ]
    assert plan.escalation_level == "see_doctor"


def test_clearance_after_a_repeat_flare_restarts_return_while_recurrence_stays_open() -> None:
    start = day(-40)
    first_flare = start + timedelta(days=RETURN_STARTS + 2)
    second_flare = first_flare + timedelta(days=6)
    records = history(
        into_return(start, 39), entry(first_flare, 6), entry(second_flare, 5),
        clearance(second_flare + timedelta(days=2)),
    )  # fmt: skip
    plan = evaluate(records, second_flare + timedelta(days=3))
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 2)
    assert [(e.rule, e.is_open) for e in plan.escalations[1:]] == [
        ("RECURRENCE", True),  # until the episode closes
        ("RECURRENCE_REPEAT", False),  # until a clearance
    ]
    assert plan.escalation_level == "attention"


def test_a_new_episode_counts_its_flares_afresh() -> None:
    start = day(-120)
    onset_again = start + timedelta(days=80)
    second_flare = onset_again + timedelta(days=10)
    records = history(
        into_return(start, 70), entry(start + timedelta(days=RETURN_STARTS + 2), 5),
        sharp(onset_again), daily(onset_again + timedelta(days=1), [1] * 8),
        entry(second_flare, 5),
    )  # fmt: skip
    assert evaluate(records, onset_again - timedelta(days=1)).phase == "active"  # closed
    plan = evaluate(records, second_flare)
    assert (plan.phase, plan.episode.start, plan.episode.flare_count) == ("rest", onset_again, 1)
    assert len(raised(plan, "RECURRENCE")) == 2
    assert not raised(plan, "RECURRENCE_REPEAT")


def test_recurrence_not_outside_return() -> None:
    plan = evaluate(history(sharp(day(-3)), entry(D, 6)), D)  # in rest
    assert not raised(plan, "RECURRENCE")
    assert plan.day_in_phase == 4


# --- STAGE_ADVANCE / RETURN_COMPLETE -----------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "phase", "stage", "day_in_stage"),
    [
        (RETURN_STARTS, "return", 1, 1),
        (RETURN_STARTS + 13, "return", 1, 14),
        (RETURN_STARTS + 14, "return", 2, 1),
        (RETURN_STARTS + 27, "return", 2, 14),
        (RETURN_STARTS + 28, "return", 3, 1),
        (RETURN_STARTS + 41, "return", 3, 14),
        (RETURN_STARTS + 42, "active", None, None),
    ],
)
def test_stage_advance_and_return_complete(offset, phase, stage, day_in_stage) -> None:
    start = day(-80)
    plan = evaluate(history(into_return(start, 60)), start + timedelta(days=offset))
    assert (plan.phase, plan.stage, plan.day_in_stage) == (phase, stage, day_in_stage)
    if phase == "active":
        assert plan.episode is None
        assert plan.day_in_phase == 1
        assert "RETURN_COMPLETE" in rules_of(plan.reasons)
    elif stage > 1:
        assert "STAGE_ADVANCE" in rules_of(plan.reasons)


def test_return_complete_closes_the_recurrence_escalation() -> None:
    start = day(-90)
    flare_day = start + timedelta(days=RETURN_STARTS + 1)
    records = history(into_return(start, 85), entry(flare_day, 4))
    plan = evaluate(records, D)
    assert plan.phase == "active"
    recurrence = raised(plan, "RECURRENCE")[0]
    assert not recurrence.is_open
    assert recurrence.closed_on == plan.date - timedelta(days=plan.day_in_phase - 1)


@pytest.mark.parametrize(
    ("stage", "allowed"),
    [
        (1, ("mobility", "core", "low_impact")),
        (2, ("mobility", "core", "low_impact", "strength_light")),
        (3, ALL),
    ],
)
def test_return_stage_allows(stage, allowed) -> None:
    start = day(-80)
    on = start + timedelta(days=RETURN_STARTS + 14 * (stage - 1) + 8)
    plan = evaluate(history(into_return(start, 60)), on)
    assert plan.stage == stage
    assert plan.allowed_categories == allowed
    assert plan.max_rpe is None


@pytest.mark.parametrize(("stage_day", "barred"), [(1, True), (7, True), (8, False)])
def test_trigger_categories_are_barred_on_stage_3_days_1_to_7(stage_day, barred) -> None:
    start = day(-80)
    records = history(
        workout(start - timedelta(days=1), "running", 40, 6),
        workout(start, "deadlift", 20, 8, at=18),  # recorded after the onset, same day
        workout(start - timedelta(days=2), "tennis", 60, 6),  # too early to count
        into_return(start, 60),
    )
    plan = evaluate(records, start + timedelta(days=RETURN_STARTS + 28 + stage_day - 1))
    assert plan.episode.trigger_categories == ("high_impact", "heavy_strength")
    assert plan.day_in_stage == stage_day
    expected = tuple(c for c in ALL if not (barred and c in ("high_impact", "heavy_strength")))
    assert plan.allowed_categories == expected


def test_trigger_categories_are_only_the_high_risk_ones() -> None:
    start = day(-80)
    records = history(
        workout(start, "walking", 30, 3, at=8),  # recorded before the onset, same day
        workout(start - timedelta(days=1), "running", 40, 6),
        into_return(start, 60),
    )
    plan = evaluate(records, start + timedelta(days=RETURN_STARTS + 28))  # stage 3, day 1
    assert (plan.stage, plan.day_in_stage) == (3, 1)
    assert plan.episode.trigger_categories == ("high_impact",)
    assert plan.allowed_categories == tuple(c for c in ALL if c != "high_impact")


# --- CLEARANCE and the order of one day's records ----------------------------------------------


@pytest.mark.parametrize(("clearance_hour", "phase"), [(9, "medical_review"), (11, "return")])
def test_same_day_clearance_clears_a_red_flag_recorded_before_it(clearance_hour, phase) -> None:
    flagged = entry(D, 3, flags=("leg_numbness",), at=10)
    plan = evaluate(history(flagged, clearance(D, at=clearance_hour)), D)
    assert plan.phase == phase
    urgent = raised(plan, "RED_FLAG_URGENT")[0]
    assert urgent.is_open is (phase == "medical_review")
    if phase == "return":
        assert (plan.stage, plan.day_in_phase) == (1, 1)
        assert "CLEARANCE" in rules_of(plan.reasons)
        assert urgent.closed_on == D


def test_a_clearance_recorded_at_the_same_instant_as_a_red_flag_does_not_clear_it() -> None:
    # Ties of `recorded` go clearance first (the safer reading, see the engine's docstring).
    flagged = entry(D, 3, flags=("leg_numbness",), at=10, id=1)
    plan = evaluate(history(flagged, clearance(D, at=10, id=99)), D)
    assert plan.phase == "medical_review"
    assert raised(plan, "RED_FLAG_URGENT")[0].is_open


def test_red_flag_recorded_after_a_same_day_clearance_starts_a_new_review() -> None:
    first = entry(day(-2), 2, flags=("night_pain",), at=8)
    second = entry(D, 2, flags=("night_pain",), at=15)
    plan = evaluate(history(first, clearance(D, at=9), second), D)
    assert plan.phase == "medical_review"
    assert [e.is_open for e in raised(plan, "RED_FLAG_URGENT")] == [False, True]


def test_clearance_dated_before_the_review_began_changes_nothing() -> None:
    records = history(entry(day(-1), 2, flags=("leg_weakness",)), clearance(day(-3)))
    plan = evaluate(records, D)
    assert plan.phase == "medical_review"
    assert plan.escalation_level == "urgent"


@pytest.mark.parametrize(("cleared", "phase"), [(-1, "medical_review"), (0, "return")])
def test_a_clearance_acts_only_from_the_day_after_a_time_based_review_began(cleared, phase):
    # Worked example 4: REST_MAX and PERSIST_14D move the patient to review on D−1, after
    # that day's records, so only a clearance dated D or later acts.
    records = history(sharp(day(-15), 6), daily(day(-14), [5] * 14), clearance(day(cleared)))
    plan = evaluate(records, D)
    assert plan.phase == phase


def test_clearance_outside_review_changes_nothing() -> None:
    plan = evaluate(history(sharp(day(-2)), clearance(D)), D)
    assert (plan.phase, plan.day_in_phase) == ("rest", 3)


def test_clearance_closes_rest_max_and_recurrence_repeat_escalations() -> None:
    records = history(sharp(day(-20), 4), daily(day(-19), [3, 2] * 8), clearance(day(-1)))
    plan = evaluate(records, D)
    rest_max = raised(plan, "REST_MAX")[0]
    assert (rest_max.is_open, rest_max.closed_on) == (False, day(-1))
    assert (plan.phase, plan.stage) == ("return", 1)


# --- MISSED_LOGS -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since", "nudge", "escalation"),
    [(2, False, False), (3, True, False), (6, True, False), (7, True, True)],
)
def test_missed_logs(days_since, nudge, escalation) -> None:
    start = day(-30)
    records = history(sharp(start, 4), daily(start + timedelta(days=1), [5] * 3))
    last = start + timedelta(days=3)
    plan = evaluate(records, last + timedelta(days=days_since))
    assert ("MISSED_LOGS" in rules_of(plan.advice)) is nudge
    missed = raised(plan, "MISSED_LOGS")
    assert bool(missed) is escalation
    if escalation:
        assert (missed[0].anchor, missed[0].level) == (f"date:{last.isoformat()}", "attention")
        assert missed[0].raised_on == last + timedelta(days=7)


def test_days_with_only_a_workout_are_unlogged_days() -> None:
    records = history(sharp(day(-10), 4), [workout(day(k), "walking", 20, 2) for k in range(-8, 1)])
    plan = evaluate(records, D)
    missed = raised(plan, "MISSED_LOGS")
    assert [(e.anchor, e.raised_on) for e in missed] == [(f"date:{day(-10).isoformat()}", day(-3))]
    assert "MISSED_LOGS" in rules_of(plan.advice)


def test_missed_logs_only_in_an_episode() -> None:
    plan = evaluate(history(entry(day(-20), 5)), D)
    assert "MISSED_LOGS" not in rules_of(plan.advice)
    assert not plan.escalations


def test_missed_logs_nudges_while_its_escalation_is_open_after_the_episode_closes() -> None:
    # Logs stop during stage 3; the return completes by time while MISSED_LOGS is open, and
    # the nudge to log goes on until the next entry closes it (interpretation 12).
    start = day(-60)
    records = history(into_return(start, 40))
    completed = start + timedelta(days=RETURN_STARTS + 42)
    plan = evaluate(records, completed + timedelta(days=1))
    assert (plan.phase, plan.episode) == ("active", None)
    assert [e.is_open for e in raised(plan, "MISSED_LOGS")] == [True]
    assert "MISSED_LOGS" in rules_of(plan.advice)


def test_missed_logs_escalates_in_medical_review_too() -> None:
    # "in an episode (any of its phases)": a review waiting for a clearance included.
    plan = evaluate(history(entry(day(-10), 2, flags=("night_pain",))), day(-3))
    assert plan.phase == "medical_review"
    assert [(e.anchor, e.raised_on, e.level) for e in raised(plan, "MISSED_LOGS")] == [
        (f"date:{day(-10).isoformat()}", day(-3), "attention")
    ]


def test_missed_logs_closes_on_the_next_entry() -> None:
    start = day(-20)
    records = history(sharp(start, 4), entry(day(-2), 5))
    plan = evaluate(records, D)
    missed = raised(plan, "MISSED_LOGS")
    assert [(e.anchor, e.is_open, e.closed_on) for e in missed] == [
        (f"date:{start.isoformat()}", False, day(-2))
    ]


# --- NON_ADHERENCE -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("activity", "rpe", "flagged"),
    [
        ("stretching", 9, False),  # mobility at any effort
        ("walking", 3, False),
        ("walking", 4, True),  # low_impact above max_rpe
        ("plank", 4, True),
        ("bird_dog", 3, False),
        ("bodyweight", 2, True),
        ("running", 2, True),
    ],
)
def test_non_adherence_in_rest(activity, rpe, flagged) -> None:
    trained = workout(D, activity, 20, rpe)
    plan = evaluate(history(sharp(day(-2)), trained), D)
    escalations = raised(plan, "NON_ADHERENCE")
    assert bool(escalations) is flagged
    if flagged:
        assert (escalations[0].anchor, escalations[0].level) == (f"workout:{trained.id}", "info")
        assert plan.escalation_level == "see_doctor"  # ACUTE_ONSET outranks it


@pytest.mark.parametrize(
    ("stage", "activity", "flagged"),
    [
        (1, "swimming", False),
        (1, "resistance_band", True),
        (2, "resistance_band", False),
        (2, "running", True),
        (3, "running", False),
    ],
)
def test_non_adherence_in_return(stage, activity, flagged) -> None:
    start = day(-80)
    on = start + timedelta(days=RETURN_STARTS + 14 * (stage - 1) + 9)
    plan = evaluate(history(into_return(start, 60), workout(on, activity, 30, 8)), on)
    assert bool(raised(plan, "NON_ADHERENCE")) is flagged


# Judged against the plan at the end of the day before: day 8's workout by day 7's plan.
@pytest.mark.parametrize(("stage_day", "flagged"), [(1, True), (8, True), (9, False)])
def test_non_adherence_for_a_trigger_category_on_stage_3_days_1_to_7(stage_day, flagged):
    start = day(-80)
    on = start + timedelta(days=RETURN_STARTS + 28 + stage_day - 1)
    records = history(
        workout(start, "deadlift", 20, 8, at=8), into_return(start, 60),
        workout(on, "squat", 30, 6),
    )  # fmt: skip
    plan = evaluate(records, on)
    assert plan.episode.trigger_categories == ("heavy_strength",)
    assert bool(raised(plan, "NON_ADHERENCE")) is flagged


def test_non_adherence_judges_against_the_plan_of_the_day_before() -> None:
    # The onset day's own workout: the plan at the end of the day before was `active`.
    plan = evaluate(history(workout(D, "deadlift", 30, 8, at=8), sharp(D)), D)
    assert not raised(plan, "NON_ADHERENCE")
    # The day REST_EXIT lets the patient out, a light-strength workout is still judged by rest.
    records = history(sharp(day(-6)), daily(day(-5), [1] * 6), workout(D, "bodyweight", 20, 2))
    plan = evaluate(records, D)
    assert plan.phase == "return"
    assert raised(plan, "NON_ADHERENCE")


def test_non_adherence_in_review_and_its_seven_days() -> None:
    trained = workout(day(-8), "plank", 10, 2)
    records = history(entry(day(-10), 2, flags=("night_pain",)), trained)
    flagged = raised(evaluate(records, day(-2)), "NON_ADHERENCE")[0]
    assert (flagged.raised_on, flagged.is_open) == (day(-8), True)
    closed = raised(evaluate(records, day(-1)), "NON_ADHERENCE")[0]
    assert (closed.is_open, closed.closed_on) == (False, day(-1))


def test_no_non_adherence_in_active() -> None:
    assert not evaluate(history(workout(D, "snatch", 60, 10)), D).escalations


# --- LOAD_SPIKE and the acute:chronic ratio ----------------------------------------------------


def _steady(days: int, last: date, spike_minutes: int | None) -> list:
    """17 AU a day (RPE 1 × 17 min) for `days` days ending the day before `last`, then a spike."""
    records = [workout(last - timedelta(days=k), "walking", 17, 1) for k in range(1, days + 1)]
    if spike_minutes is not None:
        records.append(workout(last, "walking", spike_minutes, 1))
    return records


def _ewma(loads: list[int], n: int) -> Fraction:
    weight = Fraction(2, n + 1)
    value = Fraction(loads[0])
    for load in loads[1:]:
        value = weight * load + (1 - weight) * value
    return value


def test_steady_load_then_75_is_exactly_1_5_and_does_not_fire() -> None:
    # A steady 17 keeps both averages at 17; then 0.25·75 + 0.75·17 = 31.5 and
    # (2/29)·75 + (27/29)·17 = 21, a ratio of exactly 3/2.
    loads = [17] * 25 + [75]
    assert _ewma(loads, 7) / _ewma(loads, 28) == Fraction(3, 2)
    plan = evaluate(history(_steady(25, D, 75)), D)
    assert plan.acwr == pytest.approx(1.5, abs=1e-12)
    assert not raised(plan, "LOAD_SPIKE")


def test_load_above_1_5_fires_once_per_iso_week() -> None:
    plan = evaluate(history(_steady(25, D, 76)), D)
    loads = [17] * 25 + [76]
    assert plan.acwr == pytest.approx(float(_ewma(loads, 7) / _ewma(loads, 28)))
    assert plan.acwr > 1.5
    spike = raised(plan, "LOAD_SPIKE")
    monday = D - timedelta(days=D.weekday())
    assert [(e.anchor, e.level, e.raised_on) for e in spike] == [
        (f"date:{monday.isoformat()}", "attention", D)
    ]
    assert "LOAD_SPIKE" in rules_of(plan.advice)
    # Another spike in the same ISO week raises nothing new.
    later = history(_steady(25, D, 76), workout(day(1), "walking", 200, 2))
    assert len(raised(evaluate(later, day(1)), "LOAD_SPIKE")) == 1


def test_load_spike_fires_in_rest_too() -> None:
    plan = evaluate(history(_steady(25, D, 76), sharp(day(-2))), D)
    assert plan.phase == "rest"
    assert [e.level for e in raised(plan, "LOAD_SPIKE")] == ["attention"]


@pytest.mark.parametrize(("history_days", "fires"), [(20, False), (21, True)])
def test_load_spike_needs_the_first_workout_21_days_before(history_days, fires) -> None:
    records = [workout(day(-history_days), "walking", 17, 1), workout(D, "running", 60, 8)]
    plan = evaluate(history(records), D)
    assert plan.acwr > 1.5
    assert bool(raised(plan, "LOAD_SPIKE")) is fires


def test_acwr_of_a_small_series_by_hand() -> None:
    # Loads: 100 on day 0, nothing on day 1, 60 on day 2, 200 + 100 on day 4 (two workouts).
    records = [
        workout(day(-4), "walking", 50, 2),
        workout(day(-2), "cycling", 20, 3),
        workout(D, "swimming", 40, 5),
        workout(D, "plank", 20, 5),
    ]
    daily_loads = [100, 0, 60, 0, 300]
    acute = _ewma(daily_loads, 7)
    chronic = _ewma(daily_loads, 28)
    plan = evaluate(history(records), D)
    assert plan.acute_load == pytest.approx(float(acute))
    assert plan.chronic_load == pytest.approx(float(chronic))
    assert plan.acwr == pytest.approx(float(acute / chronic))
    # By hand for the acute average: 100 → 75 → 0.25·60 + 56.25 = 71.25 → 53.4375
    # → 0.25·300 + 40.078125 = 115.078125.
    assert plan.acute_load == pytest.approx(115.078125)


def test_acwr_is_null_before_any_workout() -> None:
    plan = evaluate(history(entry(day(-3), 2), workout(day(1), "walking")), D)
    assert (plan.acwr, plan.acute_load, plan.chronic_load) == (None, None, None)


# --- weekly load cap ---------------------------------------------------------------------------


def _cap_case(baseline_workouts: list) -> tuple:
    start = day(-40)
    records = history(baseline_workouts, into_return(start, 39))
    return start, records


@pytest.mark.parametrize(
    ("week", "factor"), [(1, 0.5), (2, 0.55), (3, 0.605), (8, 0.5 * 1.1**7), (9, 1.0)]
)
def test_weekly_load_cap_grows_10_percent_a_week_up_to_the_baseline(week, factor) -> None:
    g = guideline_with_overrides({"stage_days": 28})  # a 12-week return
    start = day(-100)
    records = history(into_return(start, 99))
    on = start + timedelta(days=RETURN_STARTS + 7 * (week - 1) + 3)
    plan = evaluate(records, on, g)
    if plan.phase != "return":
        pytest.fail("the case should still be in return")
    assert plan.weekly_load_cap == pytest.approx(1000 * min(1.0, factor))
    text = next(i.text for i in plan.advice if "training load under" in i.text)
    if factor < 1:
        assert "grows by 10% each week, up to 1000" in text
    else:  # the baseline reached: it grows no further, and the advice must not promise more
        assert "grows by" not in text
        assert "full limit" in text


def test_load_cap_advice_shows_the_increase_as_set_and_never_a_number_above_the_cap() -> None:
    g = guideline_with_overrides({"weekly_increase": 0.125})
    start = day(-100)
    on = start + timedelta(days=RETURN_STARTS + 7 + 3)  # week 2 of the return
    plan = evaluate(history(into_return(start, 99)), on, g)
    assert plan.weekly_load_cap == pytest.approx(562.5)
    (text,) = [i.text for i in plan.advice if "training load under" in i.text]
    assert text == (
        "Keep this week's training load under 562 (effort 0–10 × minutes, added up over the "
        "week). The limit grows by 12.5% each week, up to 1000. Your therapist set your weekly "
        "load increase to 12.5% (usually 10%)."
    )


def test_weekly_load_cap_baseline_is_the_mean_weekly_load_of_the_28_days_before() -> None:
    start = day(-40)
    baseline = [
        workout(start - timedelta(days=28), "running", 40, 5),  # 200, first day of the window
        workout(start - timedelta(days=10), "cycling", 60, 4),  # 240
        workout(start - timedelta(days=1), "swimming", 30, 2),  # 60
        workout(start - timedelta(days=29), "running", 600, 10),  # outside the window
    ]
    plan = evaluate(history(baseline, into_return(start, 39)), start + timedelta(days=8))
    assert plan.phase == "return"
    assert plan.weekly_load_cap == pytest.approx((200 + 240 + 60) / 4 * 0.5)


def test_load_cap_advice_below_one_never_says_under_0() -> None:
    # Two effort-0 workouts before the episode: the baseline is 0 AU, so the cap is 0. Loads
    # are whole numbers, so the patient may train only at effort 0; "under 0" allows nothing
    # and "up to 0" promises growth that never comes.
    start = day(-40)
    baseline = [workout(start - timedelta(days=d), "walking", 30, 0) for d in (10, 5)]
    plan = evaluate(history(baseline, into_return(start, 39)), start + timedelta(days=8))
    assert (plan.phase, plan.weekly_load_cap) == ("return", 0)
    (text,) = [i.text for i in plan.advice if "training load" in i.text]
    assert text == (
        "Keep this week's training load at 0 (effort 0–10 × minutes, added up over the week): "
        "only workouts at an effort of 0 fit. That is the full limit: it grows no further."
    )


@pytest.mark.parametrize(
    ("minutes", "baseline", "then"),
    [
        # 10.75 × 0.5 × 1.1^7 ≈ 10.47: both read 10, so "grows … up to 10" would promise nothing.
        ((20, 23), 10.75, "under 10 (effort 0–10 × minutes, added up over the week). That is "
         "the full limit: it grows no further."),
        # 38 × 0.5 × 1.1^7 ≈ 37.03, read 37: the limit still grows, to 38.
        ((76, 76), 38, "under 37 (effort 0–10 × minutes, added up over the week). The limit "
         "grows by 10% each week, up to 38."),
    ],
)  # fmt: skip
def test_load_cap_advice_promises_growth_only_to_a_number_above_todays(
    minutes, baseline, then
) -> None:
    # Week 8 of a 12-week return, on a baseline of two effort-1 walks: the cap and its full
    # limit are compared as the patient reads them, rounded down.
    g = guideline_with_overrides({"stage_days": 28})
    start = day(-100)
    days_before = (10, 5)
    walks = [
        workout(start - timedelta(days=d), "walking", m, 1)
        for d, m in zip(days_before, minutes, strict=True)
    ]
    on = start + timedelta(days=RETURN_STARTS + 7 * 7 + 3)
    plan = evaluate(history(walks, into_return(start, 99)), on, g)
    assert plan.phase == "return"
    assert plan.weekly_load_cap == pytest.approx(baseline * 0.5 * 1.1**7)
    (text,) = [i.text for i in plan.advice if "training load" in i.text]
    assert text == "Keep this week's training load " + then


@pytest.mark.parametrize("count", [0, 1])
def test_weekly_load_cap_defaults_to_1000_with_fewer_than_two_workouts(count) -> None:
    start = day(-40)
    baseline = [workout(start - timedelta(days=3), "running", 60, 9)][:count]
    plan = evaluate(history(baseline, into_return(start, 39)), start + timedelta(days=8))
    assert plan.weekly_load_cap == pytest.approx(500)


@pytest.mark.parametrize("same_day", [False, True])
def test_weekly_load_cap_baseline_needs_only_two_workouts(same_day) -> None:
    # Two workouts, on two days or on one: "fewer than 2" is not met, so no default.
    start = day(-40)
    second_on = start - timedelta(days=10 if same_day else 3)
    baseline = [
        workout(start - timedelta(days=10), "cycling", 60, 4),  # 240
        workout(second_on, "walking", 30, 2),  # 60
    ]
    plan = evaluate(history(baseline, into_return(start, 39)), start + timedelta(days=8))
    assert plan.phase == "return"
    assert plan.weekly_load_cap == pytest.approx((240 + 60) / 4 * 0.5)


@pytest.mark.parametrize(("segment_day", "cap"), [(7, 500.0), (8, 550.0)])
def test_weekly_load_cap_week_2_begins_on_the_segments_day_8(segment_day, cap) -> None:
    start = day(-60)
    on = start + timedelta(days=RETURN_STARTS + segment_day - 1)
    plan = evaluate(history(into_return(start, 40)), on)
    assert (plan.phase, plan.day_in_phase) == ("return", segment_day)
    assert plan.weekly_load_cap == pytest.approx(cap)


def test_weekly_load_cap_restarts_with_each_return_segment() -> None:
    start = day(-60)
    flare_day = start + timedelta(days=RETURN_STARTS + 15)  # stage 2, week 3 of the segment
    records = history(
        into_return(start, 15 + RETURN_STARTS), entry(flare_day, 5),
        daily(flare_day + timedelta(days=1), [1] * 5),
    )  # fmt: skip
    assert evaluate(records, flare_day - timedelta(days=1)).weekly_load_cap == pytest.approx(
        1000 * 0.5 * 1.1**2
    )
    plan = evaluate(records, flare_day + timedelta(days=3))  # REST_EXIT after 3 days
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, 2)
    assert plan.weekly_load_cap == pytest.approx(500)


def test_load_cap_only_in_return() -> None:
    assert evaluate(history(sharp(D)), D).weekly_load_cap is None
    assert evaluate(history(entry(D, 1)), D).weekly_load_cap is None


# --- escalation levels -------------------------------------------------------------------------


def test_levels_are_ordered_and_none_is_lowest() -> None:
    assert LEVEL_ORDER == ("none", "info", "attention", "see_doctor", "urgent", "emergency")
    assert level_rank("none") < level_rank("info") < level_rank("emergency")
    assert max_level("attention", "urgent", "info") == "urgent"
    assert max_level() == "none"


def test_escalation_level_is_the_highest_open_one() -> None:
    records = history(_streak(list(range(-9, -1))), entry(day(-1), 2))  # streak ends D−1
    plan = evaluate(records, day(-2))
    assert plan.escalation_level == "see_doctor"  # PERSIST_7D open
    assert evaluate(records, D).escalation_level == "none"


def test_plan_before_the_first_data_date() -> None:
    plan = evaluate(history(entry(D, 5)), day(-1))
    assert (plan.phase, plan.day_in_phase, plan.first_data_date) == ("active", None, None)
    assert plan.allowed_categories == ALL
    assert plan.escalation_level == "none"


# --- overrides ---------------------------------------------------------------------------------


def test_rest_min_override_lets_the_patient_out_sooner_and_is_named() -> None:
    g = guideline_with_overrides({"rest_min_days": 5})
    records = history(sharp(D), daily(day(1), [1] * 8))
    plan = evaluate(records, day(3), g)  # rest day 4
    assert plan.phase == "rest"
    rest_min = next(i.text for i in plan.reasons if i.rule == "REST_MIN")
    assert "therapist set your minimum rest" in rest_min
    assert "5 days" in rest_min
    assert evaluate(records, day(4), g).phase == "return"
    assert evaluate(records, day(4)).phase == "rest"
    assert [(o.name, o.value, o.default) for o in plan.overrides] == [("rest_min_days", 5, 7)]


@pytest.mark.parametrize(
    ("overrides", "case", "expect_default", "expect_override"),
    [
        ({"flare_min": 6}, "flare5", "rest", "return"),
        ({"pain_day_min": 2}, "streak2", "active-none", "active-attention"),
        ({"improved_max": 3}, "improved3", "rest", "return"),
        ({"stage_days": 7}, "stage8", 1, 2),
        ({"rest_max_days": 10}, "rest11", "rest", "medical_review"),
        ({"rest_after_flare_days": 1}, "flare_day2", "rest", "return"),
    ],
)
def test_overrides_change_thresholds(overrides, case, expect_default, expect_override) -> None:
    g = guideline_with_overrides(overrides)
    start = day(-40)
    back = start + timedelta(days=RETURN_STARTS)
    if case == "flare5":
        records, on = (
            history(into_return(start, 20), entry(back + timedelta(days=2), 5)),
            back + timedelta(days=2),
        )
    elif case == "streak2":
        records, on = history(_streak([-3, -2, -1, 0], 2)), D
    elif case == "improved3":
        records, on = history(sharp(D), daily(day(1), [5] * 5 + [3, 3])), day(7)
    elif case == "stage8":
        records, on = history(into_return(start, 20)), back + timedelta(days=7)
    elif case == "rest11":
        records, on = history(sharp(D), daily(day(1), [4] * 12)), day(10)
    else:  # flare_day2: a sharp flare scored 1 (so an improved day), then one more good day
        flare_day = back + timedelta(days=3)
        records = history(
            into_return(start, RETURN_STARTS + 2), sharp(flare_day, 1),
            daily(flare_day + timedelta(days=1), [1]),
        )  # fmt: skip
        on = flare_day + timedelta(days=1)

    def outcome(plan):
        if case == "stage8":
            return plan.stage
        if case == "streak2":
            return f"{plan.phase}-{plan.escalation_level}"
        return plan.phase

    assert outcome(evaluate(records, on)) == expect_default
    overridden = evaluate(records, on, g)
    assert outcome(overridden) == expect_override
    name = next(iter(overrides))
    assert [(o.name, o.value) for o in overridden.overrides] == [(name, overrides[name])]


def test_weekly_increase_override_changes_the_cap() -> None:
    g = guideline_with_overrides({"weekly_increase": 0.2})
    start = day(-40)
    on = start + timedelta(days=RETURN_STARTS + 7)  # week 2
    plan = evaluate(history(into_return(start, 39)), on, g)
    assert plan.weekly_load_cap == pytest.approx(1000 * 0.5 * 1.2)
    text = " ".join(i.text for i in plan.advice)
    assert "20%" in text
    assert "therapist set your weekly load increase" in text


def test_flare_warning_names_the_overridden_flare_minimum() -> None:
    g = guideline_with_overrides({"flare_min": 6})
    start = day(-40)
    plan = evaluate(history(into_return(start, 20)), start + timedelta(days=RETURN_STARTS + 2), g)
    text = next(i.text for i in plan.advice if "stop and log it" in i.text)
    assert text.startswith("If your pain reaches 6 out of 10 or more")


def test_rest_exit_advice_names_the_overridden_improved_max() -> None:
    g = guideline_with_overrides({"improved_max": 3})
    text = next(i.text for i in evaluate(history(sharp(D)), D, g).advice if "two latest" in i.text)
    assert "once your pain is 3 or lower on the two latest days" in text


def test_rest_exit_wording_counts_logged_days_not_entries() -> None:
    # REST_EXIT reads the two latest logged DAYS, each by its highest score. A 4 yesterday
    # and two entries of 1 today is not an exit, though the two latest entries are both 1.
    records = history(sharp(D), daily(day(1), [1] * 4), entry(day(5), 4), daily(day(6), [1]))
    records = history(records, entry(day(6), 1))
    plan = evaluate(records, day(6))  # rest day 7
    assert (plan.phase, plan.day_in_phase) == ("rest", 7)
    (text,) = [t for t in advice_of(plan, "ACUTE_ONSET") if "returning to exercise once" in t]
    assert "once your pain is 2 or lower on the two latest days you logged it, both within " in text
    assert "the last 3 days (each day counts by its highest score)" in text
    assert "logs" not in text
    settled = evaluate(history(records, entry(day(7), 1)), day(7))
    assert settled.phase == "return"
    assert reason_of(settled, "REST_EXIT") == [
        "Your pain settled (2 or lower on the two latest days you logged it), so you started "
        "returning to exercise on 27 March 2025."
    ]


def test_rest_min_after_a_flare_names_the_overridden_flare_minimum() -> None:
    g = guideline_with_overrides({"rest_after_flare_days": 5})
    start = day(-40)
    flare_day = start + timedelta(days=RETURN_STARTS + 5)
    records = history(into_return(start, RETURN_STARTS + 4), entry(flare_day, 5))
    plan = evaluate(records, flare_day + timedelta(days=1), g)
    (text,) = [i.text for i in plan.reasons if i.rule == "REST_MIN"]
    assert "your minimum rest after a flare-up to 5 days (usually 3 days)" in text


# --- guideline_with_overrides ------------------------------------------------------------------


def test_override_bounds_are_the_documented_ones() -> None:
    assert OVERRIDE_BOUNDS == {
        "rest_min_days": (3, 14),
        "rest_max_days": (7, 28),
        "stage_days": (7, 28),
        "weekly_increase": (0.05, 0.20),
        "flare_min": (3, 7),
        "pain_day_min": (2, 5),
        "improved_max": (1, 3),
        "rest_after_flare_days": (1, 7),
    }


@pytest.mark.parametrize("name", sorted(OVERRIDE_BOUNDS))
def test_override_bounds_are_inclusive(name) -> None:
    low, high = OVERRIDE_BOUNDS[name]
    for value in (low, high):
        overrides = {name: value}
        if name == "rest_min_days":
            overrides["rest_max_days"] = 28
        if name == "rest_max_days":
            overrides["rest_min_days"] = 3
        assert getattr(guideline_with_overrides(overrides), name) == value


@pytest.mark.parametrize("name", sorted(OVERRIDE_BOUNDS))
def test_override_outside_bounds_names_the_bound(name) -> None:
    low, high = OVERRIDE_BOUNDS[name]
    step = 0.01 if isinstance(low, float) else 1
    for value in (low - step, high + step):
        with pytest.raises(GuidelineError) as caught:
            guideline_with_overrides({name: value})
        assert f"{low:g}" in caught.value.errors[name]
        assert f"{high:g}" in caught.value.errors[name]


@pytest.mark.parametrize(
    ("overrides", "bad"),
    [
        ({"rest_min_days": 7.5}, "rest_min_days"),
        ({"stage_days": True}, "stage_days"),
        ({"flare_min": "5"}, "flare_min"),
        ({"weekly_increase": float("nan")}, "weekly_increase"),
        ({"max_rpe": 5}, "max_rpe"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_override_rejects_wrong_types_and_names(overrides, bad) -> None:
    with pytest.raises(GuidelineError) as caught:
        guideline_with_overrides(overrides)
    assert set(caught.value.errors) == {bad}


def test_override_accepts_whole_floats_for_day_counts() -> None:
    g = guideline_with_overrides({"rest_min_days": 5.0, "weekly_increase": 0.15})
    assert g.rest_min_days == 5
    assert isinstance(g.rest_min_days, int)
    assert g.weekly_increase == 0.15


def test_override_rest_max_below_rest_min_is_rejected() -> None:
    with pytest.raises(GuidelineError) as caught:
        guideline_with_overrides({"rest_min_days": 12, "rest_max_days": 10})
    assert "rest_min_days" in caught.value.errors["rest_max_days"]
    with pytest.raises(GuidelineError) as caught:
        guideline_with_overrides({"rest_min_days": 14}, Guideline(rest_max_days=13))
    assert "rest_min_days" in caught.value.errors


def test_override_reports_every_problem_at_once() -> None:
    with pytest.raises(GuidelineError) as caught:
        guideline_with_overrides({"stage_days": 2, "flare_min": 9, "bogus": 1})
    assert set(caught.value.errors) == {"stage_days", "flare_min", "bogus"}


# --- items always carry real rule IDs ----------------------------------------------------------


@pytest.mark.parametrize(
    "records",
    [
        [sharp(day(-5))],
        [entry(day(-1), 2, flags=("bowel_bladder",))],
        into_return(day(-30), 29),
        [workout(day(-2), "deadlift", 45, 8), entry(D, 3, onset="delayed")],
    ],
)
def test_every_item_names_a_rule_id(records) -> None:
    plan = evaluate(history(records), D)
    assert plan.advice or plan.reasons
    assert {item.rule for item in (*plan.advice, *plan.reasons)} <= RULE_IDS
    assert all(item.text and item.text[-1] in ".!" for item in (*plan.advice, *plan.reasons))
    assert all(isinstance(item.rule, str) for item in plan.advice)
    assert {e.rule for e in plan.escalations} <= {r.value for r in Rule}


def test_anchor_dates_are_dates() -> None:
    plan = evaluate(history(sharp(day(-5))), D)
    assert all(isinstance(e.anchor_date, date) for e in plan.escalations)


# --- what the patient reads: no text contradicts another or the plan ---------------------------


def advice_of(plan, rule: str) -> list[str]:
    return [item.text for item in plan.advice if item.rule == rule]


def reason_of(plan, rule: str) -> list[str]:
    return [item.text for item in plan.reasons if item.rule == rule]


def test_after_an_emergency_the_review_advice_puts_emergency_care_before_any_exercise() -> None:
    plan = evaluate(history(entry(D, 2, flags=("bowel_bladder",))), D)
    assert plan.advice[0].rule == "RED_FLAG_EMERGENCY"
    assert "do not exercise" in plan.advice[0].text
    (review,) = [i.text for i in plan.advice[1:] if "mobility" in i.text]
    assert review.startswith("Once a doctor has seen you")
    # An urgent red flag's review keeps the plain wording.
    urgent = evaluate(history(entry(D, 2, flags=("night_pain",))), D)
    assert any(i.text.startswith("See a doctor before you return") for i in urgent.advice)


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        (0, "See a doctor within 48 hours, by 22 March 2025, about the symptom you reported on "
            "20 March 2025."),
        (1, "See a doctor within 48 hours, by 21 March 2025, about the symptom you reported on "
            "19 March 2025."),
        (2, "On 18 March 2025 you reported a symptom that needed a doctor within 48 hours: if "
            "you have not seen one yet, see one today."),
    ],
)  # fmt: skip
def test_urgent_advice_says_by_when_and_names_only_emergency_signs_as_emergencies(
    days_ago, expected
) -> None:
    plan = evaluate(history(entry(day(-days_ago), 2, flags=("leg_numbness",))), D)
    (urgent,) = [t for t in advice_of(plan, "RED_FLAG_URGENT") if "48 hours" in t]
    assert urgent.startswith(expected)
    # Numbness is what the patient reported (urgent); it is not called an emergency sign.
    assert "numb or weak" not in urgent
    assert "cannot move your legs" in urgent
    assert "sudden and excruciating" in urgent


def test_urgent_advice_on_the_calendars_last_day_names_no_date_past_it() -> None:
    last = date.max
    plan = evaluate(history(entry(last, 2, flags=("leg_numbness",))), last)
    (urgent,) = [t for t in advice_of(plan, "RED_FLAG_URGENT") if "48 hours" in t]
    assert urgent.startswith(
        "See a doctor within 48 hours about the symptom you reported on 31 December 9999."
    )


def test_when_to_see_a_doctor_names_every_emergency_sign() -> None:
    plan = evaluate(history(sharp(D)), D)
    (doctor,) = [i.text for i in plan.advice if i.text.startswith("See a doctor if the pain")]
    for sign in ("bladder or bowel", "numb around the groin", "cannot move your legs",
                 "sudden and excruciating"):  # fmt: skip
        assert sign in doctor
    (injury,) = [t for t in advice_of(plan, "ACUTE_ONSET") if "can be an injury" in t]
    assert "have a doctor check it" in injury


def test_a_pain_streak_prompt_after_the_clearance_does_not_ask_for_a_doctor_again() -> None:
    # Worked example 4, cleared on D: the streak's escalations stay open (interpretation 5).
    records = history(sharp(day(-15), 6), daily(day(-14), [5] * 14), clearance(D))
    plan = evaluate(records, D)
    assert (plan.phase, plan.stage) == ("return", 1)
    # Of the streak's prompts only the longest speaks; each still has its reason.
    (prompt,) = advice_of(plan, "PERSIST_14D")
    assert "A doctor has since cleared you" in prompt
    assert "see a doctor" not in prompt
    assert not advice_of(plan, "PERSIST_7D")
    assert reason_of(plan, "PERSIST_7D")
    # Before the clearance (and the review), the week-long streak's prompt asks for one.
    before = evaluate(records, day(-2))
    assert before.phase == "rest"
    assert advice_of(before, "PERSIST_7D") == [
        "Your pain has lasted more than a week: see a doctor."
    ]


@pytest.mark.parametrize(
    ("cleared_back", "cleared_since"),
    [(0, True), (1, False)],  # cleared on the day PERSIST_7D is raised, or the day before
)
def test_a_pain_streak_prompt_counts_only_a_clearance_from_its_own_day_on(
    cleared_back: int, cleared_since: bool
) -> None:
    # An urgent red flag (score 2, no pain day) puts the patient in review; a streak of 3s
    # from the next day reaches 8 days on D, which raises PERSIST_7D. A doctor who cleared
    # the patient before that saw a shorter streak, so the prompt still asks for a doctor.
    records = history(
        entry(day(-8), 2, flags=("night_pain",)),
        daily(day(-7), [3] * 8),
        clearance(day(-cleared_back)),
    )
    plan = evaluate(records, D)
    assert (plan.phase, plan.stage, plan.day_in_phase) == ("return", 1, cleared_back + 1)
    assert [e.raised_on for e in plan.escalations if e.rule == "PERSIST_7D"] == [D]
    (prompt,) = advice_of(plan, "PERSIST_7D")
    assert ("A doctor has since cleared you" in prompt) is cleared_since
    assert ("see a doctor" in prompt) is not cleared_since


def test_the_flare_warning_after_a_first_flare_says_the_next_goes_to_a_doctor() -> None:
    start = day(-60)
    flare_day = start + timedelta(days=RETURN_STARTS + 2)
    records = history(into_return(start, 40), entry(flare_day, 5))
    first_return = evaluate(records, flare_day - timedelta(days=1))
    assert "you will go back to rest" in advice_of(first_return, "REST_EXIT")[-1]
    back = evaluate(records, flare_day + timedelta(days=3))
    assert (back.phase, back.episode.flare_count) == ("return", 1)
    warning = [t for t in advice_of(back, "REST_EXIT") if t.startswith("If your pain reaches")]
    assert warning == [
        "If your pain reaches 4 out of 10 or more, or you feel sharp or shooting pain during "
        "exercise or in the hours after it, stop and log it: you will be asked to see a doctor "
        "before you go on."
    ]


@pytest.mark.parametrize(
    ("number", "word"),
    [(2, "second"), (5, "fifth"), (6, "6th"), (11, "11th"), (21, "21st"), (22, "22nd"),
     (23, "23rd"), (112, "112th")],
)  # fmt: skip
def test_ordinals(number, word) -> None:
    assert ordinal(number) == word


def test_a_third_flare_is_called_the_third() -> None:
    start = day(-60)
    first = start + timedelta(days=RETURN_STARTS + 2)
    second, third = first + timedelta(days=6), first + timedelta(days=14)
    records = history(
        into_return(start, 50), entry(first, 6), entry(second, 5), clearance(second),
        entry(third, 5),
    )  # fmt: skip
    plan = evaluate(records, third)
    assert (plan.phase, plan.episode.flare_count) == ("medical_review", 3)
    assert "the third time during this recovery" in reason_of(plan, "RECURRENCE_REPEAT")[0]


def test_a_return_after_a_flare_says_it_restarted_a_stage_lower() -> None:
    start = day(-80)
    stage3 = start + timedelta(days=RETURN_STARTS + 28)
    flare_day = stage3 + timedelta(days=2)
    records = history(into_return(start, 70), entry(flare_day, 5))
    plan = evaluate(records, flare_day + timedelta(days=2))
    assert (plan.phase, plan.stage) == ("return", 2)
    (reason,) = reason_of(plan, "REST_EXIT")
    assert "After your flare-up you started again at stage 2" in reason
    assert "half of your usual load" in reason


def test_doms_advice_in_a_rests_first_48_hours_does_not_suggest_heat() -> None:
    records = history(
        workout(day(-2), "deadlift", 45, 8), sharp(day(-1)),
        entry(D, 3, "ache", "delayed"),
    )  # fmt: skip
    plan = evaluate(records, D)  # rest day 2
    assert "COLD_FIRST_48H" in rules_of(plan.advice)
    (doms,) = advice_of(plan, "DOMS")
    assert "Heat" not in doms
    assert "keep to cold" in doms
    assert "It does not change your plan" in doms
    # Outside a rest, heat is the usual advice (worked example 1).
    active = evaluate(
        history(workout(day(-2), "deadlift", 45, 8), entry(D, 3, "ache", "delayed")), D
    )
    assert advice_of(active, "DOMS")[0].count("Heat") == 1
    assert "It does not change your plan" not in advice_of(active, "DOMS")[0]


def test_non_adherence_by_effort_says_the_effort() -> None:
    plan = evaluate(history(sharp(day(-2)), workout(D, "walking", 20, 6)), D)
    (reason,) = reason_of(plan, "NON_ADHERENCE")
    assert reason == (
        "Your workout on 20 March 2025 (Walking at an effort of 6 out of 10) went beyond what "
        "your plan allowed when the day began."
    )
    outside = evaluate(history(sharp(day(-2)), workout(D, "running", 20, 2)), D)
    assert reason_of(outside, "NON_ADHERENCE") == [
        "Your workout on 20 March 2025 (Running) went beyond what your plan allowed when the "
        "day began."
    ]


@pytest.mark.parametrize(
    ("activity", "rpe", "named"),
    [
        ("isometric_core", 6, "Isometric core exercises at an effort of 6 out of 10"),
        ("bodyweight", 2, "Bodyweight exercises"),
        ("russian_twist", 2, "Russian twist"),
        ("resistance_band", 2, "Resistance band"),
    ],
)
def test_non_adherence_reason_reads_right_for_every_activity_name(activity, rpe, named) -> None:
    # No "exercises … was", no "russian twist", no "your resistance band … was more".
    plan = evaluate(history(sharp(day(-2)), workout(D, activity, 20, rpe)), D)
    assert reason_of(plan, "NON_ADHERENCE") == [
        f"Your workout on 20 March 2025 ({named}) went beyond what your plan allowed when the "
        "day began."
    ]


def test_every_open_non_adherence_is_a_reason_of_its_own() -> None:
    records = history(
        sharp(day(-3)), workout(day(-2), "running", 30, 6), workout(day(-1), "walking", 30, 6),
        workout(day(-1), "hiit", 20, 5), entry(D, 3),
    )  # fmt: skip
    plan = evaluate(records, D)
    assert len([e for e in raised(plan, "NON_ADHERENCE") if e.is_open]) == 3
    assert sorted(reason_of(plan, "NON_ADHERENCE")) == [
        "Your workout on 18 March 2025 (Running) went beyond what your plan allowed when the "
        "day began.",
        "Your workout on 19 March 2025 (HIIT) went beyond what your plan allowed when the day "
        "began.",
        "Your workout on 19 March 2025 (Walking at an effort of 6 out of 10) went beyond what "
        "your plan allowed when the day began.",
    ]


def test_non_adherence_on_the_day_a_stage_begins_is_judged_by_the_plan_the_day_began_with() -> None:
    start = day(-20)  # stage 2 begins on start + 20 = D
    plan = evaluate(history(into_return(start, 21), workout(D, "rear_delt_row", 20, 4)), D)
    assert (plan.stage, plan.day_in_stage) == (2, 1)
    assert "strength_light" in plan.allowed_categories
    assert reason_of(plan, "NON_ADHERENCE") == [
        "Your workout on 20 March 2025 (Rear delt row) went beyond what your plan allowed when "
        "the day began."
    ]


def test_rest_minimum_is_worded_as_the_earliest_rest_day_to_return() -> None:
    plan = evaluate(history(sharp(day(-2))), D)
    assert reason_of(plan, "REST_MIN") == [
        "Keep resting: you can start returning to exercise on rest day 7 at the earliest "
        "(today is rest day 3)."
    ]


def test_stage_advice_says_any_activity_once_everything_is_allowed() -> None:
    start = day(-80)
    records = history(into_return(start, 60))
    stage3_day8 = evaluate(records, start + timedelta(days=RETURN_STARTS + 28 + 7))
    assert (stage3_day8.stage, stage3_day8.day_in_stage) == (3, 8)
    assert any("day 8 of 14: you may do any activity." in i.text for i in stage3_day8.advice)
    stage2 = evaluate(records, start + timedelta(days=RETURN_STARTS + 14))
    assert any(
        "you may do mobility, core, low-impact and light strength activities." in i.text.lower()
        for i in stage2.advice
    )


# --- boundaries, order and the overridden values named in advice and reasons -------------------


def test_weekly_load_cap_baseline_leaves_out_the_episodes_first_day() -> None:
    # "the 28 days before the episode began": the onset day's own workout is not one of them.
    start = day(-40)
    baseline = [
        workout(start - timedelta(days=28), "running", 40, 5),  # 200
        workout(start - timedelta(days=10), "cycling", 60, 4),  # 240
        workout(start, "running", 60, 8, at=8),  # 480, on the onset day itself
    ]
    plan = evaluate(history(baseline, into_return(start, 39)), start + timedelta(days=8))
    assert plan.phase == "return"
    assert plan.weekly_load_cap == pytest.approx((200 + 240) / 4 * 0.5)


def test_missed_logs_is_not_raised_on_the_day_return_complete_closes_the_episode() -> None:
    # "Order": RETURN_COMPLETE comes before MISSED_LOGS. The last log is 7 days before the
    # return completes (start+48), so the episode is already closed when MISSED_LOGS looks.
    start = day(-48)
    records = history(into_return(start, 41))  # logs up to start+41
    plan = evaluate(records, D)
    assert plan.phase == "active"
    assert not raised(plan, "MISSED_LOGS")
    assert plan.escalation_level == "none"


def test_a_review_begun_by_a_prompting_rule_gives_its_advice_once() -> None:
    # REST_MAX and PERSIST_14D both have prompts; in the review they began, the review advice
    # speaks for them and their prompt is not repeated.
    rest_max = evaluate(history(sharp(D, 4), daily(day(1), [3, 2] * 10)), day(14))
    assert rest_max.phase == "medical_review"
    assert advice_of(rest_max, "REST_MAX") == [
        "See a doctor before you return to exercise. Until a doctor clears you, do only gentle "
        "mobility exercises; your therapist, or you, can record the clearance in the app."
    ]
    persist = evaluate(history(daily(D, [4] * 15)), day(14))
    assert persist.phase == "medical_review"
    (only,) = advice_of(persist, "PERSIST_14D")
    assert only.startswith("See a doctor before you return to exercise.")


def test_rest_exit_condition_names_the_three_day_window() -> None:
    # "both lie within D−2…D": the last 3 days, today included.
    plan = evaluate(history(sharp(D)), D)
    assert any(
        "on the two latest days you logged it, both within the last 3 days" in text
        for text in advice_of(plan, "ACUTE_ONSET")
    )


@pytest.mark.parametrize(
    ("stage_day", "wording"),
    [
        (1, "For the next 7 days, today included, avoid"),
        (6, "For the next 2 days, today included, avoid"),
        (7, "For today, avoid"),
    ],
)
def test_stage_3_advice_counts_the_barred_days_left_today_included(stage_day, wording) -> None:
    start = day(-80)
    records = history(workout(start - timedelta(days=1), "running", 40, 6), into_return(start, 60))
    plan = evaluate(records, start + timedelta(days=RETURN_STARTS + 28 + stage_day - 1))
    assert (plan.stage, plan.day_in_stage) == (3, stage_day)
    assert any(wording in text for text in advice_of(plan, "STAGE_ADVANCE"))


def test_stage_reason_names_the_stage_left_and_the_stage_reached() -> None:
    start = day(-80)
    records = history(into_return(start, 60))
    stage2 = evaluate(records, start + timedelta(days=RETURN_STARTS + 14))
    assert stage2.stage == 2
    assert reason_of(stage2, "STAGE_ADVANCE") == [
        f"After 14 full days in stage 1, you moved up to stage 2 on "
        f"{when((start + timedelta(days=RETURN_STARTS + 14)).toordinal())}."
    ]


_PAIN_DAY_NOTE = (
    "Your therapist set the lowest score that counts as a painful day to 2 (usually 3)."
)


def test_persist_3d_prompt_names_the_overridden_pain_day_minimum() -> None:
    g = guideline_with_overrides({"pain_day_min": 2})
    plan = evaluate(history(daily(D, [2] * 4)), day(3), g)
    (prompt,) = advice_of(plan, "PERSIST_3D")
    assert prompt.endswith(_PAIN_DAY_NOTE)


def test_persist_14d_review_reason_names_the_overridden_pain_day_minimum() -> None:
    g = guideline_with_overrides({"pain_day_min": 2})
    plan = evaluate(history(daily(D, [2] * 15)), day(14), g)
    assert plan.phase == "medical_review"
    review = [t for t in reason_of(plan, "PERSIST_14D") if "asked to see a doctor" in t]
    assert len(review) == 1
    assert review[0].endswith(_PAIN_DAY_NOTE)


def test_chronic_3m_prompt_names_the_overridden_pain_day_minimum() -> None:
    g = guideline_with_overrides({"pain_day_min": 2})
    plan = evaluate(history([entry(day(-7 * k), 2) for k in range(13)]), D, g)
    (prompt,) = advice_of(plan, "CHRONIC_3M")
    assert prompt.endswith(_PAIN_DAY_NOTE)


def test_rest_exit_condition_names_the_overridden_rest_max() -> None:
    g = guideline_with_overrides({"rest_max_days": 21})
    plan = evaluate(history(sharp(D)), D, g)
    (text,) = [t for t in advice_of(plan, "ACUTE_ONSET") if t.startswith("Log your pain every day")]
    assert "If your pain has not settled after 21 days of rest" in text
    assert text.endswith(
        "Your therapist set your longest rest before a doctor's review to 21 days "
        "(usually 14 days)."
    )


def test_urgent_advice_two_days_before_the_calendars_end_still_names_the_deadline() -> None:
    reported = date.max - timedelta(days=2)
    plan = evaluate(history(entry(reported, 2, flags=("leg_numbness",))), reported)
    (urgent,) = [t for t in advice_of(plan, "RED_FLAG_URGENT") if "48 hours" in t]
    assert urgent.startswith(
        "See a doctor within 48 hours, by 31 December 9999, about the symptom you reported on "
        "29 December 9999."
    )
