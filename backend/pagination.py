from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=` (up to 500); the body carries count, next and previous."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
