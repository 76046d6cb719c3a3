"""Recovery API. Views validate, call a service or selector, and serialize; nothing more."""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, Min, OuterRef, QuerySet, Subquery, When
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import IsPatient, IsTherapist
from accounts.selectors import linked_patients
from backend.parsers import reject_body
from recovery import selectors, services
from recovery.api.serializers import (
    ActivitySerializer,
    ClearanceRecordedSerializer,
    ClearanceSerializer,
    DateRangeSerializer,
    EscalationSerializer,
    OverrideSerializer,
    OverrideValuesSerializer,
    PainEntrySerializer,
    PatientDetailSerializer,
    PatientSummarySerializer,
    PlanQuerySerializer,
    PlanSerializer,
    SelfReportedClearanceSerializer,
    TherapistClearanceSerializer,
    WorkoutSerializer,
)
from recovery.engine import LEVEL_ORDER, OVERRIDE_BOUNDS, Guideline
from recovery.models import (
    Activity,
    Clearance,
    EscalationAcknowledgement,
    PainEntry,
    Workout,
)

DATE_RANGE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First date included"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last date included"),
]
PLAN_DATE_PARAMETER = OpenApiParameter(
    "date", OpenApiTypes.DATE, description="Plan for this date (default: the patient's today)"
)


def query_values(request: Request, *names: str) -> dict[str, str]:
    """The named query parameters as sent, in a plain dict: given the QueryDict itself, DRF's
    fields take an empty value as not sent, and `?date=` is a bad date, not no date."""
    return {name: request.query_params[name] for name in names if name in request.query_params}


def filter_date_range(queryset: QuerySet, request: Request, field: str = "date") -> QuerySet:
    query = DateRangeSerializer(data=query_values(request, "from", "to"))
    query.is_valid(raise_exception=True)
    if "from" in query.validated_data:
        queryset = queryset.filter(**{f"{field}__gte": query.validated_data["from"]})
    if "to" in query.validated_data:
        queryset = queryset.filter(**{f"{field}__lte": query.validated_data["to"]})
    return queryset


def plan_response(request: Request, patient: User) -> Response:
    query = PlanQuerySerializer(data=query_values(request, "date"), context={"patient": patient})
    query.is_valid(raise_exception=True)
    on_date = query.validated_data.get("date") or patient.local_today()
    return Response(PlanSerializer(selectors.plan_for(patient=patient, on_date=on_date)).data)


class ActivityListView(generics.ListAPIView):
    serializer_class = ActivitySerializer
    queryset = Activity.objects.all()
    pagination_class = None  # the whole catalogue, a few dozen rows


# --- A patient's own records ---------------------------------------------------------


class OwnRecordsMixin:
    """List, create and edit the signed-in patient's own rows; other ids answer 404."""

    permission_classes = [IsPatient]
    model: type
    date_field = "date"

    def get_queryset(self) -> QuerySet:
        return self.model.objects.filter(patient=self.request.user)


@extend_schema_view(get=extend_schema(parameters=DATE_RANGE_PARAMETERS))
class PainEntryListView(OwnRecordsMixin, generics.ListCreateAPIView):
    model = PainEntry
    serializer_class = PainEntrySerializer

    def get_queryset(self) -> QuerySet:
        return filter_date_range(super().get_queryset(), self.request)

    def perform_create(self, serializer: PainEntrySerializer) -> None:
        serializer.instance = services.pain_entry_create(
            patient=self.request.user, **serializer.validated_data
        )


class PainEntryDetailView(OwnRecordsMixin, generics.RetrieveUpdateDestroyAPIView):
    model = PainEntry
    serializer_class = PainEntrySerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer: PainEntrySerializer) -> None:
        serializer.instance = services.pain_entry_update(
            entry=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: PainEntry) -> None:
        services.pain_entry_delete(entry=instance)


@extend_schema_view(get=extend_schema(parameters=DATE_RANGE_PARAMETERS))
class WorkoutListView(OwnRecordsMixin, generics.ListCreateAPIView):
    model = Workout
    serializer_class = WorkoutSerializer

    def get_queryset(self) -> QuerySet:
        return filter_date_range(super().get_queryset(), self.request)

    def perform_create(self, serializer: WorkoutSerializer) -> None:
        serializer.instance = services.workout_create(
            patient=self.request.user, **serializer.validated_data
        )


class WorkoutDetailView(OwnRecordsMixin, generics.RetrieveUpdateDestroyAPIView):
    model = Workout
    serializer_class = WorkoutSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer: WorkoutSerializer) -> None:
        serializer.instance = services.workout_update(
            workout=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Workout) -> None:
        services.workout_delete(workout=instance)


class ClearanceEffectMixin:
    """A clearance's 201 says what it did: one that changed nothing (dated before the review,
    or the day a time-based review began) must not pass unnoticed."""

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)  # type: ignore[attr-defined]
        clearance = serializer.instance
        clearance.effect = selectors.clearance_effect(
            patient=clearance.patient, cleared_on=clearance.cleared_on
        )
        return Response(ClearanceRecordedSerializer(clearance).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(parameters=DATE_RANGE_PARAMETERS),
    post=extend_schema(responses={201: ClearanceRecordedSerializer}),
)
class ClearanceListView(ClearanceEffectMixin, OwnRecordsMixin, generics.ListCreateAPIView):
    """A patient's clearances; POST records a self-reported one naming the clinician."""

    model = Clearance
    serializer_class = SelfReportedClearanceSerializer

    def get_queryset(self) -> QuerySet:
        return filter_date_range(super().get_queryset(), self.request, field="cleared_on")

    def perform_create(self, serializer: SelfReportedClearanceSerializer) -> None:
        serializer.instance = services.clearance_record(
            patient=self.request.user, **serializer.validated_data
        )


class PlanView(APIView):
    permission_classes = [IsPatient]

    @extend_schema(parameters=[PLAN_DATE_PARAMETER], responses=PlanSerializer)
    def get(self, request: Request) -> Response:
        return plan_response(request, request.user)


# --- Escalations ---------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=DATE_RANGE_PARAMETERS))
class EscalationListView(generics.ListAPIView):
    """Newest first; `?from=&to=` by `raised_on`, the patient's day the history raised it.
    `acknowledged_at`: for a therapist, when they saw it; for a patient, when a therapist
    first did."""

    serializer_class = EscalationSerializer

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        visible = selectors.escalations_visible_to(user=user)
        queryset = filter_date_range(visible, self.request, field="raised_on")
        queryset = queryset.order_by("-raised_at", "-id")
        if user.is_therapist:
            own = EscalationAcknowledgement.objects.filter(
                escalation=OuterRef("pk"), therapist=user
            )
            return queryset.annotate(acknowledged_at=Subquery(own.values("acknowledged_at")[:1]))
        return queryset.annotate(acknowledged_at=Min("acknowledgements__acknowledged_at"))


class EscalationAcknowledgeView(APIView):
    permission_classes = [IsTherapist]

    @extend_schema(request=None, responses=EscalationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        escalation = get_object_or_404(selectors.escalations_visible_to(user=request.user), pk=pk)
        reject_body(request)
        acknowledgement = services.escalation_acknowledge(
            escalation=escalation, therapist=request.user
        )
        escalation.acknowledged_at = acknowledgement.acknowledged_at
        return Response(EscalationSerializer(escalation).data)


# --- A therapist's linked patients --------------------------------------------------------


class LinkedPatientMixin:
    """Resolves {id}, API.md's name for a patient in these paths, among the therapist's linked
    patients; any other id is a 404."""

    permission_classes = [IsTherapist]

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # Before the body is read: an unlinked id answers 404 even when the body is bad.
        self.get_patient()

    def get_patient(self) -> User:
        if not hasattr(self, "_patient"):
            patients = linked_patients(therapist=self.request.user)
            self._patient = get_object_or_404(patients, pk=self.kwargs["id"])
        return self._patient


# The stored escalation level as a rank (none 0 … emergency 5), to sort by in the database.
LEVEL_RANK = Case(
    *(
        When(plan_snapshot__escalation_level=level, then=rank)
        for rank, level in enumerate(LEVEL_ORDER)
    ),
    default=0,
    output_field=IntegerField(),
)


class PatientListView(generics.ListAPIView):
    """Every linked patient in one JSON array, as API.md gives it (not paginated), who needs
    attention first: the highest escalation level, then a clearance due, then by name."""

    permission_classes = [IsTherapist]
    serializer_class = PatientSummarySerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet:
        return (
            linked_patients(therapist=self.request.user)
            .select_related("plan_snapshot")
            .order_by(
                LEVEL_RANK.desc(),
                F("plan_snapshot__clearance_required").desc(nulls_last=True),
                "name",
                "id",
            )
        )


class PatientDetailView(LinkedPatientMixin, APIView):
    @extend_schema(responses=PatientDetailSerializer)
    def get(self, request: Request, **kwargs) -> Response:
        patient = self.get_patient()
        plan = selectors.plan_for(patient=patient, on_date=patient.local_today())
        return Response(PatientDetailSerializer(patient, context={"plan": plan}).data)


@extend_schema_view(get=extend_schema(parameters=DATE_RANGE_PARAMETERS))
class PatientPainEntryListView(LinkedPatientMixin, generics.ListAPIView):
    serializer_class = PainEntrySerializer

    def get_queryset(self) -> QuerySet:
        entries = PainEntry.objects.filter(patient=self.get_patient())
        return filter_date_range(entries, self.request)


@extend_schema_view(get=extend_schema(parameters=DATE_RANGE_PARAMETERS))
class PatientWorkoutListView(LinkedPatientMixin, generics.ListAPIView):
    serializer_class = WorkoutSerializer

    def get_queryset(self) -> QuerySet:
        workouts = Workout.objects.filter(patient=self.get_patient())
        return filter_date_range(workouts, self.request)


class PatientPlanView(LinkedPatientMixin, APIView):
    @extend_schema(parameters=[PLAN_DATE_PARAMETER], responses=PlanSerializer)
    def get(self, request: Request, **kwargs) -> Response:
        return plan_response(request, self.get_patient())


@extend_schema_view(
    get=extend_schema(parameters=DATE_RANGE_PARAMETERS),
    post=extend_schema(responses={201: ClearanceRecordedSerializer}),
)
class PatientClearanceListView(
    ClearanceEffectMixin, LinkedPatientMixin, generics.ListCreateAPIView
):
    """The patient's clearances; POST records one by this therapist."""

    serializer_class = TherapistClearanceSerializer

    def get_queryset(self) -> QuerySet:
        clearances = Clearance.objects.filter(patient=self.get_patient())
        return filter_date_range(clearances, self.request, field="cleared_on")

    def perform_create(self, serializer: ClearanceSerializer) -> None:
        serializer.instance = services.clearance_record(
            patient=self.get_patient(), therapist=self.request.user, **serializer.validated_data
        )


class PatientOverridesView(LinkedPatientMixin, APIView):
    """Per-patient guideline values. PATCH `{name: value}` sets, `{name: null}` restores the
    default; values outside the guideline's bounds answer 400 and change nothing."""

    @extend_schema(responses=OverrideSerializer(many=True))
    def get(self, request: Request, **kwargs) -> Response:
        return Response(self._body(self.get_patient()))

    @extend_schema(request=OverrideValuesSerializer, responses=OverrideSerializer(many=True))
    def patch(self, request: Request, **kwargs) -> Response:
        patient = self.get_patient()
        values = self._parse(request.data)
        services.overrides_set(patient=patient, values=values, set_by=request.user)
        return Response(self._body(patient), status=status.HTTP_200_OK)

    @staticmethod
    def _parse(data: object) -> dict[str, float | None]:
        if not isinstance(data, dict) or not data:
            raise ValidationError({"detail": "Send an object of {name: value or null}."})
        errors = {}
        for name, value in data.items():
            if name not in OVERRIDE_BOUNDS:
                errors[name] = ["Unknown field."]
            elif value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                errors[name] = ["A number or null is required."]
        if errors:
            raise ValidationError(errors)
        return dict(data)

    @staticmethod
    def _body(patient: User) -> list[dict]:
        defaults = Guideline()
        stored = {override.name: override for override in selectors.overrides_of(patient=patient)}
        rows = []
        for name, (minimum, maximum) in OVERRIDE_BOUNDS.items():
            override = stored.get(name)
            rows.append(
                {
                    "name": name,
                    "value": override.value if override else getattr(defaults, name),
                    "default": getattr(defaults, name),
                    "minimum": minimum,
                    "maximum": maximum,
                    "set_by": str(override.set_by) if override and override.set_by else None,
                    "set_at": override.set_at if override else None,
                }
            )
        return OverrideSerializer(rows, many=True).data
