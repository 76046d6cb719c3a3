"""Business checks on record dates: the patient's own calendar decides what is 'today'."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from accounts.models import User

MAX_BACKDATE_DAYS = 365


def check_record_date(value: dt.date, *, patient: User, field: str = "date") -> None:
    """A record may be dated from 365 days before the patient's local today up to today."""
    today = patient.local_today()
    if value > today:
        raise ValidationError({field: [f"Must not be after today ({today.isoformat()})."]})
    earliest = today - dt.timedelta(days=MAX_BACKDATE_DAYS)
    if value < earliest:
        raise ValidationError(
            {
                field: [
                    f"Must not be more than {MAX_BACKDATE_DAYS} days ago ({earliest.isoformat()})."
                ]
            }
        )
