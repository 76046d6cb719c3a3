from __future__ import annotations

from rest_framework import serializers

from accounts.models import CareLink, Invitation, User, validate_timezone
from backend.fields import HourMinuteField, StrictCharField, StrictEmailField
from backend.serializers import StrictModelSerializer, StrictSerializer
from backend.validators import single_line


class MeSerializer(StrictModelSerializer):
    reminder_time = HourMinuteField()
    timezone = StrictCharField(max_length=64, validators=[validate_timezone])

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "timezone", "reminder_time", "reminders_enabled"]
        read_only_fields = ["id", "email", "role"]


class RegisterSerializer(StrictSerializer):
    email = StrictEmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=256, trim_whitespace=False)
    name = StrictCharField(max_length=150, validators=[single_line])
    timezone = StrictCharField(max_length=64, validators=[validate_timezone])


class TokenRequestSerializer(StrictSerializer):
    email = StrictEmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=256, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["code", "expires_at"]
        read_only_fields = fields


class InvitationAcceptSerializer(StrictSerializer):
    code = StrictCharField(max_length=32)


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email"]
        read_only_fields = fields


class CareLinkSerializer(serializers.ModelSerializer):
    therapist = UserSummarySerializer(read_only=True)
    patient = UserSummarySerializer(read_only=True)

    class Meta:
        model = CareLink
        fields = ["id", "therapist", "patient", "created_at"]
        read_only_fields = fields
