from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from rest_framework.authtoken.models import TokenProxy

from accounts.models import CareLink, Invitation, User
from backend.admin import ReadOnlyAdminMixin
from recovery import services as recovery_services

# A token is what a patient or therapist gets by signing in: staff never make one for them.
admin.site.unregister(TokenProxy)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "name",
        "role",
        "timezone",
        "reminders_enabled",
        "is_active",
        "date_joined",
    ]
    list_filter = ["role", "is_active", "is_staff", "reminders_enabled"]
    search_fields = ["email", "name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "role", "timezone", "reminder_time", "reminders_enabled"]}),
        (
            "Access",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "role", "timezone", "password1", "password2"],
            },
        )
    ]

    def save_model(self, request, obj, form, change) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and obj.is_patient and "timezone" in form.changed_data:
                recovery_services.plan_reevaluate(patient=obj)


# A link is made by a patient accepting a therapist's invitation, and ended by either of them
# (the API): staff see links and invitations, and change none.
@admin.register(CareLink)
class CareLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["therapist", "patient", "created_at", "ended_at", "ended_by"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["therapist__email", "therapist__name", "patient__email", "patient__name"]
    raw_id_fields = ["therapist", "patient", "ended_by"]
    list_select_related = ["therapist", "patient", "ended_by"]
    date_hierarchy = "created_at"


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "therapist", "created_at", "expires_at", "accepted_by", "accepted_at"]
    list_filter = [("accepted_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "therapist__email", "accepted_by__email"]
    raw_id_fields = ["therapist", "accepted_by"]
    list_select_related = ["therapist", "accepted_by"]
    readonly_fields = ["code", "created_at"]
