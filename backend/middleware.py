"""Rebound's own middleware."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.cache import add_never_cache_headers
from django.utils.http import escape_leading_slashes

from backend.exceptions import API_PREFIX


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except where an API path lacks its trailing slash (`POST /api/v1/pain-logs`).

    Django answers such a POST with a 301, which clients follow with a GET: the entry is
    lost while the client sees a 200 (and under DEBUG, Django raises instead: a 500).
    Under the API the redirect is a 308, which clients follow with the same method and body.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code == 404
            and self.should_redirect_with_slash(request)
        ):
            with_slash = escape_leading_slashes(request.get_full_path(force_append_slash=True))
            return HttpResponsePermanentRedirect(with_slash, preserve_request=True)
        return super().process_response(request, response)


class NoStoreMiddleware:
    """Every API answer says `Cache-Control: no-store`: health data must not stay in a
    browser's, a proxy's or a shared computer's cache."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            add_never_cache_headers(response)
        return response
