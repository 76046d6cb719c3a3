from __future__ import annotations

from rest_framework import serializers

from accounts.models import CareLink, Invitation, User, validate_timezone
from backend.serializers import StrictModelSerializer, StrictSerializer


class MeSerializer(StrictModelSerializer):
    reminder_time = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])
    timezone = serializers.CharField(max_length=64, validators=[validate_timezone])

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "timezone", "reminder_time", "reminders_enabled"]
        read_only_fields = ["id", "email", "role"]


class RegisterSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=256, trim_whitespace=False)
    name = serializers.CharField(max_length=150)
    timezone = serializers.CharField(max_length=64, validators=[validate_timezone])


class TokenRequestSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=256, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["code", "expires_at"]
        read_only_fields = fields


class InvitationAcceptSerializer(StrictSerializer):
    code = serializers.CharField(max_length=32)


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
