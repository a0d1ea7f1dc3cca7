"""Slot for changes to this sub-domain's tables made while the module was being built."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0004_detection")]

    operations = []
