from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.throttling import sign_in_throttled
from backend.exceptions import api_not_found
from recovery import views as web_views

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("recovery.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

urlpatterns = [
    path("", web_views.home, name="home"),
    path("api/v1/", include(api_v1)),
    # Any other API path with its trailing slash: a JSON 404 from a view, so that DEBUG's
    # HTML page never answers an API client. (Without the slash, the 308 to it comes first.)
    # Exempt from CSRF, which would otherwise answer a write there with its HTML 403 page;
    # the view changes nothing.
    re_path(r"^api/(?:.*/)?$", csrf_exempt(api_not_found)),
    path("accounts/login/", sign_in_throttled(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/login/", sign_in_throttled(admin.site.login)),  # before the admin's own
    path("admin/", admin.site.urls),
]

handler400 = "backend.exceptions.bad_request"
handler404 = "backend.exceptions.page_not_found"
handler500 = "backend.exceptions.server_error"
