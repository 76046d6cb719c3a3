from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=` (up to 500); the body carries count, next and previous.

    A `page` or `page_size` that is not a whole number of 1 or more answers 400 naming it
    (DRF would answer 404 for the one and quietly ignore the other); a page past the last
    answers 404, as a missing resource does.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = "There is no page {page_number}: {message}"

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            _check_positive_whole(request.query_params, name)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        # The schema says where both start, since anything below 1 answers the 400 above.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


def _check_positive_whole(params, name: str) -> None:
    value = params.get(name)
    if not value or (name == "page" and value == "last"):  # absent, empty, or DRF's "last"
        return
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ValidationError({name: ["Must be a whole number of 1 or more."]})
