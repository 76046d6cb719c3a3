from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsPatient(BasePermission):
    message = "Only patients can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_patient)


class IsTherapist(BasePermission):
    message = "Only physical therapists can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_therapist)
