"""Writes about users, tokens, invitations and links."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import CareLink, Invitation, Role, User

EMAIL_TAKEN = "An account with this email already exists."


def user_create(
    *,
    email: str,
    password: str,
    role: str = Role.PATIENT,
    name: str = "",
    timezone_name: str = "UTC",
    is_staff: bool = False,
) -> User:
    """Create a user after every model and password check; raises ValidationError."""
    email = User.objects.normalize_email(email).strip().lower()
    user = User(email=email, name=name, role=role, timezone=timezone_name, is_staff=is_staff)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = [EMAIL_TAKEN]
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():  # a savepoint: a caller's transaction outlives a refusal
            user.save()
    except IntegrityError:
        # Another request stored the same address after the check above.
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError({"email": [EMAIL_TAKEN]}) from None
        raise
    return user


def user_update(*, user: User, **fields: object) -> User:
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*fields])
    return user


def token_obtain(*, user: User) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


def invitation_create(*, therapist: User) -> Invitation:
    if not therapist.is_therapist:
        raise ValidationError({"detail": ["Only physical therapists can invite patients."]})
    return Invitation.objects.create(therapist=therapist)


def _invalid_code() -> ValidationError:
    return ValidationError({"code": ["This code is not valid, already used, or expired."]})


@transaction.atomic
def invitation_accept(*, patient: User, code: str) -> CareLink:
    """Link `patient` to the inviting therapist; the code works exactly once."""
    now = timezone.now()
    invitation = (
        Invitation.objects.select_related("therapist")
        .filter(code=code.strip().upper(), accepted_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if invitation is None:
        raise _invalid_code()
    # Claim with a conditional update so two patients racing for one code cannot both win.
    claimed = Invitation.objects.filter(id=invitation.id, accepted_at__isnull=True).update(
        accepted_at=now, accepted_by=patient
    )
    if claimed != 1:
        raise _invalid_code()
    link, _ = CareLink.objects.active().get_or_create(
        therapist=invitation.therapist, patient=patient, defaults={"created_at": now}
    )
    return link


def care_link_end(*, link: CareLink, by: User, at: dt.datetime | None = None) -> CareLink:
    if link.ended_at is None:
        link.ended_at = at or timezone.now()
        link.ended_by = by
        link.save(update_fields=["ended_at", "ended_by"])
    return link
