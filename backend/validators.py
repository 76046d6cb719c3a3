"""Validators shared by every app."""

from __future__ import annotations

from django.core.validators import RegexValidator

# A name is one line of text. A line break in one could turn into a header of an email that
# names the person (Django's mail refuses such headers, but the name should never get there).
single_line = RegexValidator(
    r"\A[^\x00-\x1f\x7f]*\Z",
    message="Must be one line, without line breaks or other control characters.",
    code="control_characters",
)
