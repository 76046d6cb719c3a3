"""Patient-facing sentences. Plain words, one idea each; numbers come from the guideline so an
overridden value is the one the patient reads, and named as the therapist's choice."""

from __future__ import annotations

import math
from datetime import date

from recovery.engine.guideline import DEFAULT_GUIDELINE, Guideline
from recovery.engine.inputs import CATEGORIES, CATEGORY_NAMES

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def percent(fraction: float) -> str:
    """0.1 → "10%", 0.125 → "12.5%": the value a therapist set, not rounded to a whole."""
    return f"{round(fraction * 100, 2):g}%"


_OVERRIDE_WORDING = {
    "rest_min_days": ("your minimum rest after an injury", "{:d} days".format),
    "rest_after_flare_days": ("your minimum rest after a flare-up", "{:d} days".format),
    "rest_max_days": ("your longest rest before a doctor's review", "{:d} days".format),
    "stage_days": ("the length of each return stage", "{:d} days".format),
    "weekly_increase": ("your weekly load increase", percent),
    "flare_min": ("the score that counts as a flare-up", "{:d}".format),
    "pain_day_min": ("the lowest score that counts as a painful day", "{:d}".format),
    "improved_max": ("the score that counts as improved", "{:d} or lower".format),
}


_LAST_DAY = date.max.toordinal()


def when(day: int) -> str:
    """A date as a patient reads it: "3 March 2025"."""
    d = date.fromordinal(day)
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def note(g: Guideline, *names: str) -> str:
    """ " Your therapist set …" for each of `names` that differs from its default, else ""."""
    parts = []
    for name in names:
        value, default = getattr(g, name), getattr(DEFAULT_GUIDELINE, name)
        if value == default:
            continue
        label, unit = _OVERRIDE_WORDING.get(name, (name.replace("_", " "), str))
        try:
            shown, usual = unit(value), unit(default)
        except ValueError:
            shown, usual = str(value), str(default)
        parts.append(f" Your therapist set {label} to {shown} (usually {usual}).")
    return "".join(parts)


def categories(slugs: tuple[str, ...]) -> str:
    names = [CATEGORY_NAMES.get(slug, slug) for slug in slugs]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# --- emergencies and doctors -------------------------------------------------------------------

_EMERGENCY_ACTION = (
    "call emergency services (911, 112 or 999) or have someone take you to the nearest "
    "emergency department. Do not drive yourself, and do not exercise."
)
EMERGENCY_ADVICE = f"Seek emergency care now: {_EMERGENCY_ACTION}"


def emergency_advice(reported: int, today: int) -> str:
    """On the day reported, the call to act; on later days it names that day, because the
    review lasts until a clearance and the patient may have been seen since."""
    if today <= reported:
        return EMERGENCY_ADVICE
    return (
        f"On {when(reported)} you reported a symptom that needs emergency care. If you have "
        f"not been seen yet, seek emergency care now: {_EMERGENCY_ACTION}"
    )


# The emergency signs of GUIDELINES.md (RED_FLAG_EMERGENCY), as a patient would notice them.
EMERGENCY_SIGNS = (
    "you lose control of your bladder or bowel, feel numb around the groin, cannot move your "
    "legs, or the pain becomes sudden and excruciating"
)


def urgent_advice(reported: int, today: int) -> str:
    """Within the 48 hours, by when; after them, today."""
    if today - reported < 2:
        # Two days after the calendar's last day there is no date to name.
        by = f", by {when(reported + 2)}," if reported + 2 <= _LAST_DAY else ""
        see = (
            f"See a doctor within 48 hours{by} about the symptom you reported on {when(reported)}."
        )
    else:
        see = (
            f"On {when(reported)} you reported a symptom that needed a doctor within 48 hours: "
            "if you have not seen one yet, see one today."
        )
    return f"{see} Call emergency services at once if {EMERGENCY_SIGNS}."


REVIEW_ADVICE = (
    "See a doctor before you return to exercise. Until a doctor clears you, do only gentle "
    "mobility exercises; your therapist, or you, can record the clearance in the app."
)
# In review after an emergency: no exercise at all comes before the emergency care.
REVIEW_ADVICE_AFTER_EMERGENCY = (
    "Once a doctor has seen you, and until they clear you to return to exercise, do only gentle "
    "mobility exercises; your therapist, or you, can record the clearance in the app."
)


def ordinal(number: int) -> str:
    """2 → "second", …; beyond the fifth, "21st", "22nd", "23rd", "24th"."""
    words = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
    if number in words:
        return words[number]
    suffix = (
        "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def review_reason(rule: str, day: int, g: Guideline, *, flares: int) -> str:
    started = when(day)
    if rule == "RED_FLAG_EMERGENCY":
        return f"On {started} you reported a symptom that needs emergency care."
    if rule == "RED_FLAG_URGENT":
        return f"On {started} you reported a symptom that needs a doctor within 48 hours."
    if rule == "REST_MAX":
        return (
            f"Your pain had not settled after {g.rest_max_days} days of rest, so on {started} "
            f"you were asked to see a doctor.{note(g, 'rest_max_days')}"
        )
    if rule == "PERSIST_14D":
        return (
            f"Your pain lasted {g.persist_review_days} days in a row, so on {started} you were "
            f"asked to see a doctor.{note(g, 'pain_day_min')}"
        )
    if rule == "RECURRENCE_REPEAT":
        return (
            f"Your pain flared up again on {started}, the {ordinal(flares)} time during this "
            "recovery, so you were asked to see a doctor."
        )
    return f"On {started} you were asked to see a doctor."


# --- rest --------------------------------------------------------------------------------------


def rest_reason(rule: str, day: int, rest_day: int) -> str:
    if rule == "RECURRENCE":
        return (
            f"Your pain flared up on {when(day)} during your return to exercise, so you are "
            f"resting again: today is rest day {rest_day}."
        )
    return (
        f"Sharp or severe pain during or after exercise on {when(day)} started a rest period: "
        f"today is rest day {rest_day}."
    )


def rest_min(
    rest_day: int, minimum: int, after_flare: bool, g: Guideline, *, since: int | None = None
) -> str:
    """`since`: the day of a new injury during the rest, from which the minimum counts."""
    earliest = (
        f"you can start returning to exercise on rest day {minimum} at the earliest (today is "
        f"rest day {rest_day})."
    )
    if since is not None:
        restarted = (
            f"Sharp or severe pain during or after exercise on {when(since)} may be a new "
            f"injury, so your minimum rest of {g.rest_min_days} days counts again from that day"
        )
        if minimum > g.rest_max_days + 1:
            # REST_EXIT can come no earlier than REST_MAX's day (rest day rest_max_days + 1,
            # when REST_EXIT is checked first): the rest ends in a doctor's review.
            return (
                f"{restarted}. That runs past your longest rest of {g.rest_max_days} days, so "
                f"on rest day {g.rest_max_days + 1} you will be asked to see a doctor before "
                f"you return to exercise (today is rest day {rest_day})."
                f"{note(g, 'rest_min_days', 'rest_max_days')}"
            )
        return f"{restarted}: {earliest}{note(g, 'rest_min_days')}"
    name = "rest_after_flare_days" if after_flare else "rest_min_days"
    return f"Keep resting: {earliest}{note(g, name)}"


def rest_exit_condition(g: Guideline) -> str:
    return (
        f"Log your pain every day. You can start returning to exercise once your pain is "
        f"{g.improved_max} or lower on the two latest days you logged it, both within the last "
        f"{g.exit_window_days + 1} days (each day counts by its highest score). "
        f"If your pain has not settled after {g.rest_max_days} days of rest, you will be asked "
        f"to see a doctor.{note(g, 'improved_max', 'rest_max_days')}"
    )


RELATIVE_REST = (
    "Relative rest: stay gently active with short walks and light everyday movement, and avoid "
    "anything that makes your pain worse. Bed rest is not recommended."
)
STRETCHES = (
    "Gentle stretches, stopping any that hurt: knee-to-chest, child's pose, press-up (lie on "
    "your front and push your chest up on your hands, hips down), bridge and pelvic tilt. Add "
    "isometric core exercises: tighten your stomach muscles and hold for a few seconds without "
    "moving your back."
)


def rest_allowed(g: Guideline) -> str:
    return (
        f"Today you may do mobility exercises, and low-impact or core exercise at an effort of "
        f"{g.max_rpe} out of 10 or less."
    )


# The signs of RED_FLAG_URGENT and RED_FLAG_EMERGENCY, with the same deadlines as the rules.
WHEN_TO_SEE_A_DOCTOR = (
    "See a doctor if the pain does not ease. See one within 48 hours, and log it, if you feel "
    "numbness or tingling down your legs, weakness, cramping or loss of coordination in your "
    "legs, or severe pain that disrupts your sleep. Get emergency care straight away if "
    + EMERGENCY_SIGNS
    + "."
)
COLD_FIRST_48H = (
    "For the first 48 hours use cold only: an ice pack wrapped in a cloth, 15–20 minutes every "
    "few hours. Do not use heat yet."
)
HEAT_OR_COLD = "Use heat or cold, whichever feels better, for up to 20 minutes at a time."


# --- return ------------------------------------------------------------------------------------


def return_reason(rule: str, day: int, g: Guideline, restart_stage: int | None = None) -> str:
    """`restart_stage`: the stage a return after a flare-up began at."""
    if rule == "CLEARANCE":
        return f"A doctor's clearance dated {when(day)} let you start returning to exercise."
    text = (
        f"Your pain settled ({g.improved_max} or lower on the two latest days you logged it), "
        f"so you started returning to exercise on {when(day)}."
    )
    if restart_stage is not None:
        text += (
            f" After your flare-up you started again at stage {restart_stage}, and your weekly "
            "load limit started again from half of your usual load."
        )
    return text + note(g, "improved_max")


def stage_reason(stage: int, day: int, g: Guideline) -> str:
    return (
        f"After {g.stage_days} full days in stage {stage - 1}, you moved up to stage {stage} on "
        f"{when(day)}.{note(g, 'stage_days')}"
    )


def stage_advice(
    stage: int, stage_day: int, allowed: tuple[str, ...], barred: tuple[str, ...], g: Guideline
) -> str:
    doing = (
        "any activity" if set(allowed) >= set(CATEGORIES) else f"{categories(allowed)} activities"
    )
    text = f"Return stage {stage} of 3, day {stage_day} of {g.stage_days}: you may do {doing}."
    if barred:
        left = g.trigger_days - stage_day + 1
        days = "today" if left == 1 else f"the next {left} days, today included"
        text += (
            f" For {days}, avoid {categories(barred)} activities: they were part of your "
            "workouts when this recovery began."
        )
    return text + note(g, "stage_days")


def load_cap(cap: float, full: float, g: Guideline) -> str:
    """`full`: the cap's ceiling (the baseline), which it reaches and then keeps. Both are
    rounded down, so the number a patient reads is never above the limit. A limit below 1
    (a baseline of effort-0 workouts) leaves room only for effort 0: loads are whole numbers."""
    shown, ceiling = math.floor(cap), math.floor(full)
    if shown < 1:
        text = (
            "Keep this week's training load at 0 (effort 0–10 × minutes, added up over the "
            "week): only workouts at an effort of 0 fit."
        )
    else:
        text = (
            f"Keep this week's training load under {shown} (effort 0–10 × minutes, added up "
            "over the week)."
        )
    # Compared as the patient reads them: a cap that grows by less than 1 AU grows no further.
    if shown < ceiling:
        text += f" The limit grows by {percent(g.weekly_increase)} each week, up to {ceiling}."
    else:
        text += " That is the full limit: it grows no further."
    return text + note(g, "weekly_increase")


def flare_warning(g: Guideline, *, flared_before: bool = False) -> str:
    """After a first flare-up the next one goes to a doctor's review (RECURRENCE_REPEAT)."""
    then = (
        "you will be asked to see a doctor before you go on"
        if flared_before
        else "you will go back to rest"
    )
    return (
        f"If your pain reaches {g.flare_min} out of 10 or more, or you feel sharp or shooting "
        f"pain during exercise or in the hours after it, stop and log it: {then}."
        f"{note(g, 'flare_min')}"
    )


def return_complete(day: int) -> str:
    return (
        f"You completed your return to exercise on {when(day)}: every activity is open again. "
        "Keep building up gradually."
    )


# --- prompts and other rules -------------------------------------------------------------------


def doms(*, cold_only: bool, resting: bool) -> str:
    """`cold_only`: within a rest's first 48 hours, when heat is not advised yet."""
    helps = (
        "Gentle stretching, massage and drinking enough water help (keep to cold, not heat, "
        "for now)."
        if cold_only
        else "Heat, gentle stretching, massage and drinking enough water help."
    )
    text = (
        "This sounds like delayed-onset muscle soreness from your recent workout: it usually "
        f"peaks 24–72 hours after exercise and fades on its own. {helps}"
    )
    if resting:
        text += " It does not change your plan: keep to it."
    return text


def acute_onset(day: int) -> str:
    return (
        f"Sharp or severe pain during or after exercise, as on {when(day)}, can be an injury: "
        "have a doctor check it in the next few days, and at once if it gets worse."
    )


def persist_3d(g: Guideline) -> str:
    return (
        "Your pain has not subsided in 3 days: take it easy, avoid what makes it worse and keep "
        f"logging. If it goes on, see a doctor.{note(g, 'pain_day_min')}"
    )


# After a doctor's clearance dated on or after the prompt was raised, "see a doctor" has been done.
_CLEARED_SINCE = (
    " A doctor has since cleared you to return to exercise: go gently, and see them again if "
    "it does not ease."
)


def persist_7d(g: Guideline, *, cleared_since: bool = False) -> str:
    if cleared_since:
        return f"Your pain has lasted more than a week.{_CLEARED_SINCE}{note(g, 'pain_day_min')}"
    return f"Your pain has lasted more than a week: see a doctor.{note(g, 'pain_day_min')}"


def persist_14d(g: Guideline, *, cleared_since: bool = False) -> str:
    if cleared_since:
        return f"Your pain has lasted more than two weeks.{_CLEARED_SINCE}{note(g, 'pain_day_min')}"
    return (
        "Your pain has lasted more than two weeks: see a doctor before you return to exercise."
        f"{note(g, 'pain_day_min')}"
    )


def chronic_3m(g: Guideline) -> str:
    return (
        "You have had back pain in every one of the last 13 weeks: see a physical therapist "
        f"for an assessment and a plan.{note(g, 'pain_day_min')}"
    )


def rest_max(g: Guideline) -> str:
    return (
        f"Your pain has not settled after {g.rest_max_days} days of rest: book an appointment "
        f"with your doctor.{note(g, 'rest_max_days')}"
    )


LOAD_SPIKE = (
    "Your training load has jumped well above what you are used to: ease off for a few days "
    "and build up gradually."
)


def missed_logs(last: int) -> str:
    return (
        f"You last logged your pain on {when(last)}: please log how your back feels today so "
        "your plan stays right for you."
    )


def escalation_reason(rule: str, anchor_day: int, detail: str, g: Guideline) -> str:
    """Why an open escalation is open, for the plan's reasons."""
    since = when(anchor_day)
    texts = {
        "RED_FLAG_EMERGENCY": f"On {since} you reported a symptom that needs emergency care.",
        "RED_FLAG_URGENT": (
            f"On {since} you reported a symptom that needs a doctor within 48 hours."
        ),
        "ACUTE_ONSET": f"Sharp or severe pain during or after exercise on {since}.",
        "REST_MAX": f"Your rest that began on {since} went past {g.rest_max_days} days.",
        "PERSIST_3D": f"You have logged pain every day or two since {since}.",
        "PERSIST_7D": f"You have logged pain for more than a week, since {since}.",
        "PERSIST_14D": f"You have logged pain for more than two weeks, since {since}.",
        "CHRONIC_3M": "You have logged pain in every one of the last 13 weeks.",
        "RECURRENCE": f"Your pain flared up on {since} during your return to exercise.",
        "RECURRENCE_REPEAT": f"Your pain flared up again on {since} during your return.",
        "MISSED_LOGS": f"You have not logged your pain since {since}.",
        # Judged against the plan at the end of the day before (GUIDELINES), which differs
        # from the day's own plan when a stage begins that day.
        # The activity's catalogue name as it is, in brackets: names are singular or plural
        # ("Isometric core exercises") and some are proper ("Russian twist").
        "NON_ADHERENCE": (
            f"Your workout on {since}{f' ({detail})' if detail else ''} went beyond what your "
            "plan allowed when the day began."
        ),
        "LOAD_SPIKE": f"Your training load jumped in the week of {since}.",
    }
    return texts.get(rule, f"Raised on {since}.")
