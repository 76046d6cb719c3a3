"""Admin for clinic staff. Edits of a patient's records re-evaluate their plan, as the API does.

Who may do what, as in the API: a therapist sees the records of the patients linked to them
(a superuser, the operator, sees all); guideline values and clearances are set by a therapist
linked to the patient; escalations, their acknowledgements and the plan summaries are what
the history and the therapists' own actions made, so the admin shows them and changes none.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import is_linked, linked_patients
from backend.admin import ReadOnlyAdminMixin
from recovery import services, tasks
from recovery.engine import OVERRIDE_BOUNDS, GuidelineError, guideline_with_overrides
from recovery.models import (
    Activity,
    Clearance,
    ClearanceSource,
    Escalation,
    EscalationAcknowledgement,
    GuidelineOverride,
    PainEntry,
    PlanSnapshot,
    Workout,
)
from recovery.validators import check_record_date


class PatientRecordForm(forms.ModelForm):
    """A patient's dated record, checked as the API checks it: the date within the
    patient's own calendar (`date_field`), when it is set or the record moves to another
    patient (a note added to an old entry is fine)."""

    date_field = "date"

    def clean(self) -> dict:
        cleaned = super().clean()
        patient, when = cleaned.get("patient"), cleaned.get(self.date_field)
        dated = not self.instance.pk or {self.date_field, "patient"} & set(self.changed_data)
        if dated and patient is not None and when is not None:
            try:
                check_record_date(when, patient=patient, field=self.date_field)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class LinkedPatientsOnlyMixin:
    """A therapist sees only the records of the patients linked to them; other staff see
    what their model permissions allow."""

    def get_queryset(self, request):
        records = super().get_queryset(request)
        if request.user.is_therapist and not request.user.is_superuser:
            return records.filter(patient__in=linked_patients(therapist=request.user))
        return records


class RefreshPlanOnSaveMixin(LinkedPatientsOnlyMixin):
    """Saving or deleting a row re-evaluates its patient's plan in the same transaction.

    Only patients can be picked as the row's patient (a raw id of anyone else is refused).
    """

    form = PatientRecordForm
    # The recorded order is what the engine replays within a day; staff must not rewrite it.
    readonly_fields = ("created_at", "updated_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "patient":
            kwargs["queryset"] = User.objects.filter(role=Role.PATIENT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        with services.histories_change(self._patients_of(obj, change)):
            # Recorded under the lock, as the API's saves are.
            services.stamp_if_recorded_anew(obj, changed=form.changed_data if change else None)
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        with services.histories_change([obj.patient]):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with services.histories_change([row.patient for row in queryset.select_related("patient")]):
            super().delete_queryset(request, queryset)

    @staticmethod
    def _patients_of(obj, change: bool) -> list[User]:
        """The row's patient, and also the one it had when the edit moves it to another:
        both histories change."""
        patients = [obj.patient]
        if change:
            model = type(obj)
            before = model.objects.filter(pk=obj.pk).values_list("patient_id", flat=True).first()
            if before is not None and before != obj.patient_id:
                patients.append(User.objects.get(pk=before))
        return patients


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "category"]
    list_filter = ["category"]
    search_fields = ["slug", "name"]

    def get_readonly_fields(self, request, obj=None):
        # The slug is the key every workout points at: an edited one would add a second
        # activity beside the first.
        return ["slug"] if obj else []

    def save_model(self, request, obj, form, change) -> None:
        # A new category changes what every past workout of the activity meant to the plan.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "category" in form.changed_data:
                services.checkpoints_forget()
                # Sweep now rather than at the next beat. Every patient is left pending,
                # so a broker that is down only delays this (robust: the edit still saves).
                transaction.on_commit(tasks.sweep_escalations.delay, robust=True)


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


class LinkedTherapistEditsMixin:
    """Only a therapist linked to the row's patient adds, changes or removes it; other
    staff may view it. (The forms check the patient a row is given or moved to.)"""

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and request.user.is_therapist

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.may_edit(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self.may_edit(request, obj)

    def may_edit(self, request, obj) -> bool:
        return obj is None or is_linked(therapist=request.user, patient_id=obj.patient_id)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"signed_in": request.user})


class ClearanceForm(PatientRecordForm):
    """As the API records a therapist's clearance: by the signed-in therapist, linked to the
    patient, who is then the clinician. (Self-reported ones are the patients' own, through
    the API.)"""

    date_field = "cleared_on"
    signed_in: User  # given by LinkedTherapistEditsMixin.get_form

    class Meta:
        model = Clearance
        fields = ["patient", "cleared_on", "notes"]

    def clean(self) -> dict:
        cleaned = super().clean()
        patient = cleaned.get("patient")
        if patient is not None and not is_linked(therapist=self.signed_in, patient_id=patient.pk):
            self.add_error("patient", "Only a therapist linked to this patient can record this.")
        return cleaned

    def save(self, commit: bool = True) -> Clearance:
        clearance = super().save(commit=False)
        if clearance.pk is None:  # a new one; an edit keeps who recorded it
            clearance.therapist = self.signed_in
            clearance.source = ClearanceSource.THERAPIST
            clearance.clinician_name = self.signed_in.name
        if commit:
            clearance.save()
        return clearance


@admin.register(Clearance)
class ClearanceAdmin(LinkedTherapistEditsMixin, RefreshPlanOnSaveMixin, admin.ModelAdmin):
    form = ClearanceForm
    readonly_fields = ("source", "therapist", "clinician_name", "created_at", "updated_at")
    list_display = ["cleared_on", "patient", "source", "therapist", "clinician_name", "created_at"]
    list_filter = ["source"]
    search_fields = ["patient__email", "patient__name", "clinician_name"]
    raw_id_fields = ["patient"]
    list_select_related = ["patient", "therapist"]
    date_hierarchy = "cleared_on"

    def may_edit(self, request, obj) -> bool:
        # A clearance is its author's word: only they change or remove it, while linked.
        return super().may_edit(request, obj) and (
            obj is None or obj.therapist_id == request.user.pk
        )


class GuidelineOverrideForm(forms.ModelForm):
    name = forms.ChoiceField(choices=[(name, name) for name in OVERRIDE_BOUNDS])
    signed_in: User  # given by LinkedTherapistEditsMixin.get_form

    class Meta:
        model = GuidelineOverride
        fields = ["patient", "name", "value"]

    def clean(self) -> dict:
        cleaned = super().clean()
        patient, name, value = cleaned.get("patient"), cleaned.get("name"), cleaned.get("value")
        # GUIDELINES.md: a linked therapist may override the numbers, here as in the API.
        if patient is not None and not is_linked(therapist=self.signed_in, patient_id=patient.pk):
            self.add_error("patient", "Only a therapist linked to this patient can set this.")
            return cleaned
        if patient is None or name is None or value is None:
            return cleaned
        others = GuidelineOverride.objects.filter(patient=patient).exclude(pk=self.instance.pk)
        values = {**dict(others.values_list("name", "value")), name: value}
        try:
            guideline_with_overrides(values)
        except GuidelineError as exc:
            # On the value, the one thing this form sets (and so the database constraint on
            # it is not reported a second time).
            for message in exc.errors.values():
                self.add_error("value", message)
        return cleaned


@admin.register(GuidelineOverride)
class GuidelineOverrideAdmin(LinkedTherapistEditsMixin, RefreshPlanOnSaveMixin, admin.ModelAdmin):
    form = GuidelineOverrideForm
    readonly_fields = ("set_by", "set_at")
    list_display = ["patient", "name", "value", "set_by", "set_at"]
    list_filter = ["name"]
    search_fields = ["patient__email", "patient__name"]
    raw_id_fields = ["patient"]
    list_select_related = ["patient", "set_by"]

    def save_model(self, request, obj, form, change) -> None:
        obj.set_by, obj.set_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(PlanSnapshot)
class PlanSnapshotAdmin(ReadOnlyAdminMixin, LinkedPatientsOnlyMixin, admin.ModelAdmin):
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


class AcknowledgementInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Who acknowledged, and when: each therapist acknowledges for themself, in the API."""

    model = EscalationAcknowledgement
    extra = 0
    fields = ["therapist", "acknowledged_at"]
    readonly_fields = fields


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, LinkedPatientsOnlyMixin, admin.ModelAdmin):
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
