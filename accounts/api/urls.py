from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("invitations/", views.InvitationCreateView.as_view(), name="invitation-create"),
    path("invitations/accept/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("care-links/", views.CareLinkListView.as_view(), name="care-link-list"),
    path("care-links/<int:pk>/", views.CareLinkDetailView.as_view(), name="care-link-detail"),
]
