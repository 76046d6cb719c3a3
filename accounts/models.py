"""Users, their roles, and the links between therapists and patients."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now

from backend.validators import single_line

INVITATION_LIFETIME = dt.timedelta(days=7)
DEFAULT_REMINDER_TIME = dt.time(20, 0)


# Names a zone directory can hold that are not IANA zones: on Debian, `localtime` is a link
# to the machine's own zone, so a patient's "today" would follow the server's settings.
_NOT_IANA_ZONES = frozenset({"localtime"})


@functools.cache
def iana_timezones() -> frozenset[str]:
    # Cached: available_timezones() walks the zone directories on every call.
    return frozenset(zoneinfo.available_timezones() - _NOT_IANA_ZONES)


def validate_timezone(value: str) -> None:
    if value not in iana_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Europe/London).")


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    THERAPIST = "therapist", "Physical therapist"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", Role.THERAPIST)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, validators=[single_line])
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    reminder_time = models.TimeField(default=DEFAULT_REMINDER_TIME)
    reminders_enabled = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    def save(self, *args, **kwargs) -> None:
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            # A new password ends what the old one opened: API tokens too (Django already
            # ends the sessions), so a token taken with a leaked password stops working.
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user=self).delete()

    def clean(self) -> None:
        super().clean()
        # Sign-in looks an address up in lower case, as UserManager stores it: one typed with
        # capitals in a form (the admin's) must be stored the same way, or it never signs in.
        self.email = self.email.lower()

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_today(self) -> dt.date:
        """Today's date where the user is: the date their entries are filed under."""
        return now().astimezone(self.tzinfo).date()


class CareLinkQuerySet(models.QuerySet["CareLink"]):
    def active(self) -> CareLinkQuerySet:
        return self.filter(ended_at__isnull=True)


class CareLink(models.Model):
    """A therapist looking after a patient. Ending a link keeps the row for the record."""

    therapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="patient_links")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="therapist_links")
    created_at = models.DateTimeField(default=now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapist", "patient"],
                condition=models.Q(ended_at__isnull=True),
                name="care_link_one_active_per_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(therapist=models.F("patient")), name="care_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.therapist} → {self.patient}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


def new_invitation_code() -> str:
    # 10 characters of an unambiguous alphabet: easy to read aloud, hard to guess.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def invitation_expiry() -> dt.datetime:
    return now() + INVITATION_LIFETIME


class Invitation(models.Model):
    """A single-use code a therapist gives a patient to link them."""

    code = models.CharField(max_length=16, unique=True, default=new_invitation_code)
    therapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code} from {self.therapist}"
