"""Password rules beyond Django's own validators (settings.AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class NotOnlySpacesValidator:
    """Eight spaces pass the length check and every list of common passwords."""

    def validate(self, password: str, user=None) -> None:
        if not password.strip():
            raise ValidationError("A password cannot be only spaces.", code="password_only_spaces")

    def get_help_text(self) -> str:
        return "Your password cannot be only spaces."
