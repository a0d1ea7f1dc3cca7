from django.db import migrations


def drop_view_all_jobs(apps, schema_editor):
    # "view_all_jobs" matched the built-in roles' "view_*" rule, so staff and viewers were
    # given every user's jobs as soon as the roles picked up this app's permissions.
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="jobs", codename="view_all_jobs").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="jobrun",
            options={
                "ordering": ["-created_at"],
                "permissions": [("oversee_jobs", "Can see every user's jobs")],
            },
        ),
        migrations.RunPython(drop_view_all_jobs, migrations.RunPython.noop),
    ]
