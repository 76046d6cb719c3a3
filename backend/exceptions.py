"""API error handling: every failure is a 4xx with DRF's usual body, never a 500."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class RecordGone(LookupError):
    """A service found that the row a request acts on no longer exists (another request
    removed it meanwhile). The API answers 404, as for any missing row."""


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # A model-level check (full_clean in a service) reports field errors like a serializer.
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # The database refused a row the validators let through: report it as bad input,
        # but log it, because it means a validator is missing.
        logger.warning("Database constraint rejected a request: %s", exc)
        return Response(
            {"detail": "The request conflicts with stored data or breaks a data rule."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DataError):
        # A value the database cannot hold at all (validators should catch it first).
        logger.warning("Database refused a value: %s", exc)
        return Response(
            {"detail": "A value in the request cannot be stored."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, RequestDataTooBig):
        # Raised as DRF reads the body; left to Django, it would be an HTML page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The request body is larger than the limit of {limit} bytes."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404 | RecordGone):
        # One plain body for every missing or hidden row, rather than Django's message that
        # names the model behind the URL ("No User matches the given query.").
        exc = NotFound()
    return drf_exception_handler(exc, context)


# Django's own error views, for what never reaches a DRF view: a path no URL matches
# (`/api/v1/patients/abc/`) or a failure outside one. Under the API they answer DRF's
# JSON body too, so clients never have to parse an HTML page.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def api_not_found(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {"detail": "Server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    return defaults.server_error(request)
