"""Reads about users and links, shared by views of both apps."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import CareLink, Role, User


def linked_patients(*, therapist: User) -> QuerySet[User]:
    """Patients with an active link to `therapist`."""
    return User.objects.filter(
        role=Role.PATIENT,
        therapist_links__therapist=therapist,
        therapist_links__ended_at__isnull=True,
    )


def is_linked(*, therapist: User, patient_id: int) -> bool:
    return linked_patients(therapist=therapist).filter(pk=patient_id).exists()


def care_links_of(*, user: User) -> QuerySet[CareLink]:
    """Active links the user is on either side of."""
    side = "therapist" if user.is_therapist else "patient"
    return (
        CareLink.objects.active()
        .filter(**{side: user})
        .select_related("therapist", "patient")
        .order_by("-created_at", "-id")
    )
