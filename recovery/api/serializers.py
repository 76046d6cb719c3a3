from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from backend.fields import (
    StrictCharField,
    StrictDateField,
    StrictDecimalField,
    StrictIntegerField,
)
from backend.serializers import StrictModelSerializer, StrictSerializer
from backend.validators import single_line
from recovery.engine import DEFAULT_GUIDELINE, OVERRIDE_BOUNDS
from recovery.engine.inputs import Rule
from recovery.models import (
    DURATION_RANGE,
    LOAD_KG_RANGE,
    NOTES_MAX_LENGTH,
    RPE_RANGE,
    SCORE_RANGE,
    Activity,
    Category,
    Character,
    Clearance,
    EscalationLevel,
    Level,
    Onset,
    PainEntry,
    Phase,
    RedFlag,
    Region,
    Workout,
)

SLUG_PATTERN = re.compile(r"[a-z0-9_]{1,40}")


# Read-only enum fields: what they emit is the engine's or the snapshot's value as is; as
# choice fields the schema lists the exact strings API.md fixes.
def phase_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=Phase.choices, **kwargs)


def escalation_level_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=EscalationLevel.choices, **kwargs)


RULE_CHOICES = [(rule.value, rule.value) for rule in Rule]


def rule_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=RULE_CHOICES, **kwargs)


def category_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=Category.choices, **kwargs)


class ActivitySlugField(serializers.SlugRelatedField):
    """An activity by slug. A value that cannot be a slug is refused before any query
    (PostgreSQL rejects some characters, such as NUL, in the query itself)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(slug_field="slug", queryset=Activity.objects.all(), **kwargs)

    def to_internal_value(self, data: object) -> Activity:
        if not isinstance(data, str) or not SLUG_PATTERN.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:50])
        return super().to_internal_value(data)

    # The slug is the activity's primary key, so the row's activity_id already is the
    # answer: no join and no query per row.
    def use_pk_only_optimization(self) -> bool:
        return True

    def to_representation(self, value) -> str:
        return value.pk


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["slug", "name", "category"]
        read_only_fields = fields


class PainEntrySerializer(StrictModelSerializer):
    score = StrictIntegerField(min_value=SCORE_RANGE[0], max_value=SCORE_RANGE[1])
    region = serializers.ChoiceField(choices=Region.choices)
    character = serializers.ChoiceField(choices=Character.choices)
    onset = serializers.ChoiceField(choices=Onset.choices)
    red_flags = serializers.ListField(
        child=serializers.ChoiceField(choices=RedFlag.choices), required=False, max_length=20
    )
    notes = StrictCharField(max_length=NOTES_MAX_LENGTH, allow_blank=True, required=False)

    class Meta:
        model = PainEntry
        fields = [
            "id",
            "date",
            "score",
            "region",
            "character",
            "onset",
            "red_flags",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, instance: PainEntry) -> dict:
        data = super().to_representation(instance)
        data["red_flags"] = instance.red_flags  # a list in a fixed order, not a set
        return data

    def validate_red_flags(self, value: list[str]) -> list[str]:
        return sorted(set(value))


class WorkoutSerializer(StrictModelSerializer):
    activity = ActivitySlugField()
    duration_min = StrictIntegerField(min_value=DURATION_RANGE[0], max_value=DURATION_RANGE[1])
    rpe = StrictIntegerField(min_value=RPE_RANGE[0], max_value=RPE_RANGE[1])
    load_kg = StrictDecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=LOAD_KG_RANGE[0],
        max_value=LOAD_KG_RANGE[1],
        required=False,
        allow_null=True,
        coerce_to_string=False,
        # The schema has no exact way to say it: a float multipleOf 0.01 misjudges 10.55.
        help_text="Kilograms, with at most two decimal places.",
    )
    notes = StrictCharField(max_length=NOTES_MAX_LENGTH, allow_blank=True, required=False)

    class Meta:
        model = Workout
        fields = [
            "id",
            "date",
            "activity",
            "duration_min",
            "rpe",
            "load_kg",
            "notes",
            "session_load",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "session_load", "created_at", "updated_at"]


class ClearanceSerializer(StrictModelSerializer):
    notes = StrictCharField(max_length=NOTES_MAX_LENGTH, allow_blank=True, required=False)

    class Meta:
        model = Clearance
        fields = [
            "id",
            "cleared_on",
            "source",
            "clinician_name",
            "therapist",
            "notes",
            "created_at",
        ]
        read_only_fields = ["id", "source", "therapist", "created_at"]


class SelfReportedClearanceSerializer(ClearanceSerializer):
    clinician_name = StrictCharField(max_length=150, validators=[single_line])


class TherapistClearanceSerializer(ClearanceSerializer):
    class Meta(ClearanceSerializer.Meta):
        read_only_fields = [*ClearanceSerializer.Meta.read_only_fields, "clinician_name"]


class DateRangeSerializer(StrictSerializer):
    """The `?from=&to=` filter of list endpoints (both ends included)."""

    def get_fields(self) -> dict:
        # "from" is a Python keyword, so the fields are declared here instead of as attributes.
        return {
            "from": StrictDateField(required=False),
            "to": StrictDateField(required=False),
        }

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and start > end:
            raise serializers.ValidationError({"to": ["Must not be before 'from'."]})
        return attrs


class PatientSummarySerializer(serializers.ModelSerializer):
    """A linked patient as a therapist's list shows them (from the stored plan summary)."""

    phase = serializers.SerializerMethodField()
    stage = serializers.SerializerMethodField()
    escalation_level = serializers.SerializerMethodField()
    clearance_required = serializers.SerializerMethodField()
    last_log_date = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "name",
            "email",
            "timezone",
            "phase",
            "stage",
            "escalation_level",
            "clearance_required",
            "last_log_date",
        ]
        read_only_fields = fields

    def _summary(self, user: User):
        """Where the summary fields are read: the stored snapshot (None before any)."""
        return getattr(user, "plan_snapshot", None)

    @extend_schema_field(phase_field())
    def get_phase(self, user: User) -> str:
        summary = self._summary(user)
        return summary.phase if summary else "active"

    def get_stage(self, user: User) -> int | None:
        summary = self._summary(user)
        return summary.stage if summary else None

    @extend_schema_field(escalation_level_field())
    def get_escalation_level(self, user: User) -> str:
        summary = self._summary(user)
        return summary.escalation_level if summary else "none"

    def get_clearance_required(self, user: User) -> bool:
        summary = self._summary(user)
        return summary.clearance_required if summary else False

    def get_last_log_date(self, user: User) -> dt.date | None:
        summary = self._summary(user)
        return summary.last_log_date if summary else None


class RuleItemSerializer(serializers.Serializer):
    rule = rule_field(help_text="A rule ID from the recovery guidelines.")
    text = serializers.CharField()


class EpisodeSerializer(serializers.Serializer):
    start = serializers.DateField()
    trigger_rule = rule_field()
    trigger_categories = serializers.ListField(child=category_field())
    flare_count = serializers.IntegerField()


class GuidelineNumberField(serializers.FloatField):
    """A guideline value: a day count or score as a whole number (7, not 7.0)."""

    def to_representation(self, value: float) -> int | float:
        number = super().to_representation(value)
        return int(number) if number.is_integer() else number


class PlanOverrideSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = GuidelineNumberField()
    default = GuidelineNumberField()


class PlanSerializer(serializers.Serializer):
    """A plan from the engine (a dataclass, read-only)."""

    date = serializers.DateField()
    phase = phase_field()
    stage = serializers.IntegerField(allow_null=True)
    day_in_phase = serializers.IntegerField(allow_null=True)
    day_in_stage = serializers.IntegerField(allow_null=True)
    episode = EpisodeSerializer(allow_null=True)
    allowed_categories = serializers.ListField(child=category_field())
    max_rpe = serializers.IntegerField(allow_null=True)
    weekly_load_cap = serializers.FloatField(allow_null=True)
    acute_load = serializers.FloatField(allow_null=True)
    chronic_load = serializers.FloatField(allow_null=True)
    acwr = serializers.FloatField(allow_null=True)
    escalation_level = escalation_level_field()
    clearance_required = serializers.BooleanField()
    last_log_date = serializers.DateField(allow_null=True)
    advice = RuleItemSerializer(many=True)
    reasons = RuleItemSerializer(many=True)
    overrides = PlanOverrideSerializer(many=True)


class PlanQuerySerializer(serializers.Serializer):
    date = StrictDateField(required=False)

    def validate_date(self, value: dt.date) -> dt.date:
        today = self.context["patient"].local_today()
        if value > today:
            raise serializers.ValidationError(f"Must not be after today ({today.isoformat()}).")
        return value


class PatientDetailSerializer(PatientSummarySerializer):
    """One patient with today's plan, replayed; the summary fields are read off that same
    plan, so they never disagree with it. (The stored summary the list shows can lag a
    time-based change, such as an over-long rest going to review, until the next sweep.)"""

    plan = serializers.SerializerMethodField()

    class Meta(PatientSummarySerializer.Meta):
        fields = [*PatientSummarySerializer.Meta.fields, "plan"]
        read_only_fields = fields

    @extend_schema_field(PlanSerializer)
    def get_plan(self, user: User) -> dict:
        return PlanSerializer(self.context["plan"]).data

    def _summary(self, user: User):
        return self.context["plan"]  # a Plan has the snapshot's summary fields


class EscalationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    patient_name = serializers.CharField(source="patient.name")
    rule = rule_field()
    level = serializers.ChoiceField(choices=Level.choices)
    anchor = serializers.CharField()
    anchor_date = serializers.DateField()
    raised_on = serializers.DateField()
    raised_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class ClearanceEffectSerializer(serializers.Serializer):
    cleared = serializers.BooleanField(help_text="The clearance began a return on its date.")
    phase = phase_field(help_text="The plan's phase on the clearance's date.")
    stage = serializers.IntegerField(allow_null=True)
    text = serializers.CharField(help_text="What the clearance did, in words.")


class ClearanceRecordedSerializer(ClearanceSerializer):
    """A clearance just recorded, with what it did to the plan of its date."""

    effect = ClearanceEffectSerializer(read_only=True)

    class Meta(ClearanceSerializer.Meta):
        fields = [*ClearanceSerializer.Meta.fields, "effect"]


def _override_value_field(name: str) -> serializers.Field:
    minimum, maximum = OVERRIDE_BOUNDS[name]
    whole = isinstance(getattr(DEFAULT_GUIDELINE, name), int)  # day counts and scores
    field = serializers.IntegerField if whole else serializers.FloatField
    return field(
        min_value=minimum,
        max_value=maximum,
        allow_null=True,
        required=False,
        help_text=f"Default {getattr(DEFAULT_GUIDELINE, name)}; null restores it.",
    )


# The body of PATCH /patients/{id}/overrides/, for the schema: one optional field per value a
# therapist may override, within its bounds. (The view checks a body itself and the service
# checks the values together, since rest_max_days must stay at least rest_min_days.)
OverrideValuesSerializer = type(
    "OverrideValuesSerializer",
    (StrictSerializer,),
    {name: _override_value_field(name) for name in OVERRIDE_BOUNDS},
)


class OverrideSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = GuidelineNumberField()
    default = GuidelineNumberField()
    minimum = GuidelineNumberField()
    maximum = GuidelineNumberField()
    set_by = serializers.CharField(allow_null=True)
    set_at = serializers.DateTimeField(allow_null=True)
