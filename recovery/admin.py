"""Admin for clinic staff. Edits of a patient's records re-evaluate their plan, as the API does."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction

from recovery import services
from recovery.engine import OVERRIDE_BOUNDS, GuidelineError, guideline_with_overrides
from recovery.models import (
    Activity,
    Clearance,
    Escalation,
    EscalationAcknowledgement,
    GuidelineOverride,
    PainEntry,
    PlanSnapshot,
    Workout,
)


class RefreshPlanOnSaveMixin:
    """Saving or deleting a row re-evaluates its patient's plan in the same transaction."""

    # The recorded order is what the engine replays within a day; staff must not rewrite it.
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request, obj, form, change) -> None:
        with services.history_change(obj.patient):
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        with services.history_change(obj.patient):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        patients = {row.patient for row in queryset.select_related("patient")}
        with transaction.atomic():
            services.lock_patients([patient.id for patient in patients])
            super().delete_queryset(request, queryset)
            services.plans_refresh(sorted(patients, key=lambda patient: patient.id))


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "category"]
    list_filter = ["category"]
    search_fields = ["slug", "name"]

    def save_model(self, request, obj, form, change) -> None:
        # A new category changes what every past workout of the activity meant to the plan.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "category" in form.changed_data:
                services.checkpoints_forget()


@admin.register(PainEntry)
class PainEntryAdmin(RefreshPlanOnSaveMixin, admin.ModelAdmin):
    list_display = ["date", "patient", "score", "region", "character", "onset", "red_flag_list"]
    list_filter = ["region", "character", "onset", "bowel_bladder", "saddle_numbness", "night_pain"]
    search_fields = ["patient__email", "patient__name", "notes"]
    raw_id_fields = ["patient"]
    list_select_related = ["patient"]
    date_hierarchy = "date"

    @admin.display(description="red flags")
    def red_flag_list(self, obj: PainEntry) -> str:
        return ", ".join(obj.red_flags) or "—"


@admin.register(Workout)
class WorkoutAdmin(RefreshPlanOnSaveMixin, admin.ModelAdmin):
    list_display = ["date", "patient", "activity", "duration_min", "rpe", "session_load", "load_kg"]
    list_filter = ["activity__category", "activity"]
    search_fields = ["patient__email", "patient__name", "notes"]
    raw_id_fields = ["patient"]
    list_select_related = ["patient", "activity"]
    date_hierarchy = "date"


@admin.register(Clearance)
class ClearanceAdmin(RefreshPlanOnSaveMixin, admin.ModelAdmin):
    list_display = ["cleared_on", "patient", "source", "therapist", "clinician_name", "created_at"]
    list_filter = ["source"]
    search_fields = ["patient__email", "patient__name", "clinician_name"]
    raw_id_fields = ["patient", "therapist"]
    list_select_related = ["patient", "therapist"]
    date_hierarchy = "cleared_on"


class GuidelineOverrideForm(forms.ModelForm):
    name = forms.ChoiceField(choices=[(name, name) for name in OVERRIDE_BOUNDS])

    class Meta:
        model = GuidelineOverride
        fields = ["patient", "name", "value"]

    def clean(self) -> dict:
        cleaned = super().clean()
        patient, name, value = cleaned.get("patient"), cleaned.get("name"), cleaned.get("value")
        if patient is None or name is None or value is None:
            return cleaned
        others = GuidelineOverride.objects.filter(patient=patient).exclude(pk=self.instance.pk)
        values = {**dict(others.values_list("name", "value")), name: value}
        try:
            guideline_with_overrides(values)
        except GuidelineError as exc:
            raise forms.ValidationError(list(exc.errors.values())) from None
        return cleaned


@admin.register(GuidelineOverride)
class GuidelineOverrideAdmin(RefreshPlanOnSaveMixin, admin.ModelAdmin):
    form = GuidelineOverrideForm
    readonly_fields = ("set_by", "set_at")
    list_display = ["patient", "name", "value", "set_by", "set_at"]
    list_filter = ["name"]
    search_fields = ["patient__email", "patient__name"]
    raw_id_fields = ["patient"]
    list_select_related = ["patient", "set_by"]

    def save_model(self, request, obj, form, change) -> None:
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PlanSnapshot)
class PlanSnapshotAdmin(admin.ModelAdmin):
    list_display = [
        "patient",
        "phase",
        "stage",
        "escalation_level",
        "clearance_required",
        "last_log_date",
        "evaluated_for",
    ]
    list_filter = ["phase", "escalation_level", "clearance_required"]
    search_fields = ["patient__email", "patient__name"]
    list_select_related = ["patient"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AcknowledgementInline(admin.TabularInline):
    model = EscalationAcknowledgement
    extra = 0
    raw_id_fields = ["therapist"]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = [
        "raised_at",
        "patient",
        "rule",
        "level",
        "anchor_date",
        "raised_on",
        "open_when_recorded",
    ]
    list_filter = ["level", "rule", "open_when_recorded"]
    search_fields = ["patient__email", "patient__name", "rule"]
    list_select_related = ["patient"]
    readonly_fields = [
        "patient",
        "rule",
        "level",
        "anchor",
        "anchor_date",
        "raised_on",
        "raised_at",
        "open_when_recorded",
    ]
    inlines = [AcknowledgementInline]
    date_hierarchy = "raised_at"

    def has_add_permission(self, request) -> bool:
        return False
