"""Thousands of rows in one statement, without a model instance per row: for the sweeps that decide in bulk.

Django's ``bulk_create`` builds a model instance for every row and prepares every value through its field,
which for the consent sweep (40,000 requests, their history, 20,000 notifications) cost more CPU than the
database spent writing them. Here the rows travel as one JSON parameter that the database unpacks itself
(``jsonb_array_elements`` on PostgreSQL, ``json_each`` on SQLite), so a statement costs one parameter
however many rows it holds, and SQLite's limit on parameters never splits it.

    ids = bulk.insert(Notification, ["recipient_id", "subject", "body"], rows,
                      same={"nursery_id": nursery.pk, "url": url, "created_at": now}, returning=["id"])

Rows carry only JSON values (ids, strings, numbers, None); anything else (times, a constant for every row)
goes in ``same``, which is prepared by its field as usual. No model ``save()``, no signals, no history:
``copy_history`` writes the simple-history rows of the inserted records with one INSERT ... SELECT.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection


def insert(
    model, columns: Sequence[str], rows: Iterable[Sequence], *, same: dict | None = None,
    ignore_conflicts: bool = False, returning: Sequence[str] = (),
) -> list[tuple]:
    """INSERT ``rows`` (tuples in the order of ``columns``) in one statement; return the ``returning``
    columns of the rows written. With ``ignore_conflicts`` a row that breaks a unique constraint is skipped,
    and only the rows this statement wrote are returned: what a sweep racing another one needs."""
    rows = list(rows)
    if not rows:
        return []
    same = same or {}
    meta = model._meta
    quote = connection.ops.quote_name
    targets = [meta.get_field(name) for name in same] + [meta.get_field(name) for name in columns]
    names = ", ".join(quote(f.column) for f in targets)
    constants = ["%s"] * len(same)
    if connection.vendor == "postgresql":
        # ->> gives text; the cast turns it back into the column's own type (bigint, varchar(16), ...).
        unpacked = [f"(e->>{i})::{f.db_type(connection)}" for i, f in enumerate(targets[len(same):])]
        source = "FROM jsonb_array_elements(%s::jsonb) AS e"
    elif connection.vendor == "sqlite":
        unpacked = [f"json_extract(value, '$[{i}]')" for i in range(len(columns))]
        source = "FROM json_each(%s) WHERE true"  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    else:  # pragma: no cover - the project runs on PostgreSQL and SQLite only
        raise NotImplementedError(connection.vendor)
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {', '.join(constants + unpacked)} {source}"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(meta.get_field(name).column) for name in returning)
    params = [meta.get_field(name).get_db_prep_save(value, connection) for name, value in same.items()]
    params.append(json.dumps(rows, separators=(",", ":")))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def copy_history(model, ids: Sequence[int], *, when: datetime, reason: str, user_id: int | None = None) -> None:
    """Write the "created" history row of each record in ``ids`` straight from its table, as
    django-simple-history would have on ``save()``: one INSERT ... SELECT, no Python per row."""
    if not ids:
        return
    history = model.history.model
    quote = connection.ops.quote_name
    tracked = [quote(f.column) for f in history.tracked_fields]
    extra = [quote(history._meta.get_field(name).column)
             for name in ("history_date", "history_change_reason", "history_type", "history_user")]
    if connection.vendor == "postgresql":
        wanted = "SELECT (jsonb_array_elements_text(%s::jsonb))::bigint"
    else:
        wanted = "SELECT value FROM json_each(%s)"
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(tracked + extra)}) "
        f"SELECT {', '.join(tracked)}, %s, %s, '+', %s FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(model._meta.pk.column)} IN ({wanted})"
    )
    when_db = history._meta.get_field("history_date").get_db_prep_save(when, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [when_db, reason[:100], user_id, json.dumps(list(ids))])
