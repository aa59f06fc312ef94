"""The no-overlap exclusion constraint, created on PostgreSQL only.

Migrations run on both engines. BtreeGistExtension is already a no-op off PostgreSQL;
the constraint is added by a RunPython that checks the connection's vendor, so on
SQLite this migration does nothing (the booking service serialises writers there).
The constraint is not part of the model state on purpose: see consultations/models.py.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from consultations.db import overlap_constraint
from consultations.models import OVERLAP_CONSTRAINT as NAME



def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("consultations", "Consultation")
    schema_editor.add_constraint(model, overlap_constraint(NAME))


def remove_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("consultations", "Consultation")
    schema_editor.remove_constraint(model, overlap_constraint(NAME))


class Migration(migrations.Migration):
    dependencies = [("consultations", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, remove_constraint),
    ]
