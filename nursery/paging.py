"""Pages of a long list in two steps: the page's ids from a narrow query, then those rows in full."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


def page_by_ids(order: QuerySet, rows: QuerySet, *, per_page: int, number, count: int | None = None) -> Page:
    """Paginate ``order`` (a queryset on one table, filtered and ordered, ideally by an index), then load
    the page's rows from ``rows`` (its joins and prefetches), in ``order``'s order.

    The count and the OFFSET scan touch only ``order``'s table and index, never the joins, so the cost of a
    page does not grow with what each row displays. A row gone between the two queries is left out.
    ``count``: the number of rows ``order`` holds when the page already knows it (from an aggregate it makes
    anyway), which saves the count query.
    """
    paginator = Paginator(order.values_list("pk", flat=True), per_page)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is never queried
    page = paginator.get_page(number)
    ids = list(page.object_list)
    # No ORDER BY: the rows come back in ``order``'s order below, whatever the database returns.
    by_id = rows.order_by().in_bulk(ids)
    page.object_list = [by_id[pk] for pk in ids if pk in by_id]
    return page
