"""Two indexes on the users table for the acknowledgement status page (the users table is Django's, so they
are created here by name rather than declared on its model).

- people in name order (last name, first name, username, id): a page of those still to acknowledge is read
  off it and stops after its 50 rows, where sorting the whole audience of 10,000 parents took most of the page;
- the inactive users alone (partial): counting an audience leaves them out with an anti-join on this small
  index, not a lookup of each member in the users table.
"""

from django.conf import settings
from django.db import migrations

INDEXES = {
    "staff_conduct_user_name_order": "({last_name}, {first_name}, {username}, {id})",
    "staff_conduct_user_inactive": "({id}) WHERE NOT {is_active}",
}


def create(apps, schema_editor):
    User = apps.get_model(settings.AUTH_USER_MODEL)
    quote = schema_editor.quote_name
    columns = {f: quote(User._meta.get_field(f).column) for f in ("last_name", "first_name", "username", "is_active")}
    columns["id"] = quote(User._meta.pk.column)
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(User._meta.db_table)} "
                              + definition.format(**columns))


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("staff_conduct", "0002_incident_list_order"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create, drop)]
