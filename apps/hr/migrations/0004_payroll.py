from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("hr", "0003_leave"),
    ]

    operations = []
