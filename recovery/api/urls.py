from __future__ import annotations

from django.urls import path

from recovery.api import views

urlpatterns = [
    path("activities/", views.ActivityListView.as_view(), name="activity-list"),
    path("pain-logs/", views.PainEntryListView.as_view(), name="pain-log-list"),
    path("pain-logs/<int:pk>/", views.PainEntryDetailView.as_view(), name="pain-log-detail"),
    path("workouts/", views.WorkoutListView.as_view(), name="workout-list"),
    path("workouts/<int:pk>/", views.WorkoutDetailView.as_view(), name="workout-detail"),
    path("clearances/", views.ClearanceListView.as_view(), name="clearance-list"),
    path("plan/", views.PlanView.as_view(), name="plan"),
    path("escalations/", views.EscalationListView.as_view(), name="escalation-list"),
    path(
        "escalations/<int:pk>/acknowledge/",
        views.EscalationAcknowledgeView.as_view(),
        name="escalation-acknowledge",
    ),
    path("patients/", views.PatientListView.as_view(), name="patient-list"),
    path("patients/<int:id>/", views.PatientDetailView.as_view(), name="patient-detail"),
    path(
        "patients/<int:id>/pain-logs/",
        views.PatientPainEntryListView.as_view(),
        name="patient-pain-log-list",
    ),
    path(
        "patients/<int:id>/workouts/",
        views.PatientWorkoutListView.as_view(),
        name="patient-workout-list",
    ),
    path("patients/<int:id>/plan/", views.PatientPlanView.as_view(), name="patient-plan"),
    path(
        "patients/<int:id>/clearances/",
        views.PatientClearanceListView.as_view(),
        name="patient-clearance-list",
    ),
    path(
        "patients/<int:id>/overrides/",
        views.PatientOverridesView.as_view(),
        name="patient-overrides",
    ),
]
