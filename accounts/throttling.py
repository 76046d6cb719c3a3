"""Rate limits on signing in through the web pages, like the API's `auth` scope."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import SimpleRateThrottle


class SignInThrottle(SimpleRateThrottle):
    """The API's `auth` rate, counted per client address in the same cache entries as
    POST /auth/token/, so guesses spread over the API and the forms add up."""

    scope = "auth"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def sign_in_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a sign-in page's view: its POSTs (the guesses) are rate-limited."""

    @functools.wraps(view)
    def throttled(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if (
            request.method == "POST"
            and settings.THROTTLE_ENABLED
            and not SignInThrottle().allow_request(request, None)
        ):
            return HttpResponse(
                "Too many sign-in attempts. Please wait a minute and try again.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    return throttled
