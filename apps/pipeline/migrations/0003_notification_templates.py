"""The default notification templates of dispatch offers and escalations.

Seeded here so every tenant has them (new tenants are cloned from the migrated template
schema, rows included); tenants may edit or deactivate them like any other template."""

from django.db import migrations

INCIDENT_TEMPLATES = {
    "pipeline.dispatch_offered": (
        "Incident {{ number }} offered to {{ team }}",
        "{{ title }} ({{ severity }}) in {{ zone }}, {{ distance_km }} km away, is offered to"
        " {{ team }}. Accept or decline before {{ respond_by }}.",
    ),
    "pipeline.incident_escalated": (
        "Escalation level {{ level }}: incident {{ number }}",
        "{{ title }} ({{ severity }}) in {{ zone }} has not been acknowledged since"
        " {{ opened_at }} and is escalated to level {{ level }}.",
    ),
}


def incident_templates_seed(apps, schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for event, (subject, body) in INCIDENT_TEMPLATES.items():
        for channel in ("in_app", "email"):
            text = f"<p>{body}</p>" if channel == "email" else body
            template_model.objects.get_or_create(
                event=event, channel=channel, defaults={"subject": subject, "body": text}
            )


def incident_templates_remove(apps, schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    template_model.objects.filter(event__in=list(INCIDENT_TEMPLATES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0002_timeseries_and_dispatch"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(incident_templates_seed, incident_templates_remove),
    ]
