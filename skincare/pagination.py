from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Page-number pagination with a client-chosen, capped page size."""

    page_size_query_param = "page_size"
    max_page_size = 100
