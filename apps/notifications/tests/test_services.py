from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.jobs.models import OutboxMessage
from apps.notifications import services
from apps.notifications.errors import (
    DedupeKeyInvalidError,
    TemplateInvalidError,
    UnknownChannelError,
)
from apps.notifications.models import Delivery, InAppNotification, NotificationTemplate, OptOut
from apps.notifications.services import Recipient, notify
from apps.notifications.tests.conftest import persona_in
from apps.notifications.tests.factories import NotificationTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(in_tenant_a):
    user = persona_in("admin")
    user.first_name = "Ada"
    user.save(update_fields=["first_name"])
    return user


@pytest.fixture
def staff(in_tenant_a):
    return persona_in("staff")


def _deliver_tasks() -> list[dict]:
    return list(
        OutboxMessage.objects.filter(task_name="notifications.deliver").values_list(
            "kwargs", flat=True
        )
    )


def test_notify_makes_one_delivery_per_user_and_channel_and_enqueues_sending(admin, staff):
    NotificationTemplateFactory(channel="email")
    NotificationTemplateFactory(channel="sms", subject="", body="Approved: {{ message }}")

    deliveries = notify(
        event="leave.approved",
        recipients=[Recipient(user=admin, phone="+15550001111"), staff],
        context={"message": "3 days"},
        channels=["email", "sms"],
        dedupe_key="leave:1",
    )

    assert sorted((d.user.username, d.channel, d.status) for d in deliveries) == [
        ("admin", "email", "queued"),
        ("admin", "sms", "queued"),
        ("staff", "email", "queued"),
        ("staff", "sms", "failed"),  # staff has no phone number
    ]
    sms = Delivery.objects.get(user=admin, channel="sms")
    assert (sms.address, sms.body, sms.dedupe_key) == (
        "+15550001111",
        "Approved: 3 days",
        f"leave:1:sms:{admin.pk}",
    )
    assert Delivery.objects.get(user=staff, channel="sms").last_error.startswith(
        "notifications.address_missing"
    )
    queued = {str(d.pk) for d in deliveries if d.status == "queued"}
    assert {kwargs["delivery_id"] for kwargs in _deliver_tasks()} == queued
    assert all(kwargs["schema_name"] == "alpha" for kwargs in _deliver_tasks())
    assert set(OutboxMessage.objects.values_list("queue", flat=True)) == {"high"}


def test_the_same_dedupe_key_never_makes_a_second_delivery(admin):
    NotificationTemplateFactory(channel="email")
    first = notify(
        event="leave.approved",
        recipients=[admin],
        context={"message": "x"},
        channels=["email"],
        dedupe_key="leave:2",
    )

    second = notify(
        event="leave.approved",
        recipients=[admin],
        context={"message": "changed"},
        channels=["email"],
        dedupe_key="leave:2",
    )

    assert len(first) == 1
    assert second == []
    assert Delivery.objects.count() == 1
    assert len(_deliver_tasks()) == 1


def test_a_new_channel_under_an_old_key_still_goes_out(admin):
    NotificationTemplateFactory(channel="email")
    NotificationTemplateFactory(channel="in_app", subject="Hi", body="x")
    notify(
        event="leave.approved", recipients=[admin], context={}, channels=["email"], dedupe_key="k"
    )

    added = notify(
        event="leave.approved",
        recipients=[admin],
        context={},
        channels=["email", "in_app"],
        dedupe_key="k",
    )

    assert [d.channel for d in added] == ["in_app"]


def test_opted_out_user_gets_an_opted_out_delivery_and_nothing_is_sent(admin, staff):
    NotificationTemplateFactory(channel="email")
    OptOut.objects.create(user=admin, channel="email")

    deliveries = notify(
        event="leave.approved",
        recipients=[admin, staff],
        context={"message": "x"},
        channels=["email"],
        dedupe_key="leave:3",
    )

    statuses = {d.user.username: d.status for d in deliveries}
    assert statuses == {"admin": "opted_out", "staff": "queued"}
    assert Delivery.objects.get(user=admin).body == ""
    assert [kwargs["delivery_id"] for kwargs in _deliver_tasks()] == [
        str(Delivery.objects.get(user=staff).pk)
    ]


def test_template_is_rendered_with_variables_and_html_is_escaped(admin):
    NotificationTemplateFactory(
        channel="email",
        subject="Leave for {{ recipient.first_name }}: {{ title }}",
        body=(
            "<p>Hi {{ recipient.full_name }}, {{ comment }}</p>"
            "{% if days > 1 %}{{ days }} days{% endif %}"
        ),
    )

    (delivery,) = notify(
        event="leave.approved",
        recipients=[admin],
        context={"title": "A & B", "comment": "<script>alert(1)</script>", "days": 3},
        channels=["email"],
        dedupe_key="leave:4",
    )

    assert delivery.subject == "Leave for Ada: A & B"
    assert delivery.body == ("<p>Hi Ada, &lt;script&gt;alert(1)&lt;/script&gt;</p>3 days")


def test_text_channels_are_not_html_escaped(admin):
    NotificationTemplateFactory(channel="in_app", subject="{{ a }}", body="{{ a }} & more")

    (delivery,) = notify(
        event="leave.approved",
        recipients=[admin],
        context={"a": "<b>"},
        channels=["in_app"],
        dedupe_key="k",
    )

    assert (delivery.subject, delivery.body) == ("<b>", "<b> & more")


def test_in_app_is_written_at_once_and_published_to_the_user(admin, published):
    NotificationTemplateFactory(channel="in_app", subject="Approved", body="{{ days }} days")

    (delivery,) = notify(
        event="leave.approved",
        recipients=[admin],
        context={"days": 2},
        channels=["in_app"],
        dedupe_key="leave:5",
    )

    notification = InAppNotification.objects.get(user=admin)
    assert (notification.title, notification.body, notification.event) == (
        "Approved",
        "2 days",
        "leave.approved",
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider, delivery.provider_message_id) == (
        "delivered",
        "in_app",
        str(notification.pk),
    )
    assert _deliver_tasks() == []
    assert published == [
        {
            "event_type": "notification.created",
            "payload": {
                "id": str(notification.pk),
                "event": "leave.approved",
                "title": "Approved",
                "body": "2 days",
                "created_at": notification.created_at.isoformat(),
            },
            "user_ids": [admin.pk],
        }
    ]


def test_channel_without_template_is_skipped(admin, caplog):
    NotificationTemplateFactory(channel="email")
    NotificationTemplateFactory(channel="sms", is_active=False)

    deliveries = notify(
        event="leave.approved",
        recipients=[admin],
        context={},
        channels=["email", "sms", "whatsapp"],
        dedupe_key="k",
    )

    assert [d.channel for d in deliveries] == ["email"]
    assert "No active sms template for leave.approved" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channels": ["pigeon"]}, UnknownChannelError),
        ({"dedupe_key": ""}, DedupeKeyInvalidError),
        ({"dedupe_key": "x" * 201}, DedupeKeyInvalidError),
    ],
    ids=["unknown-channel", "empty-key", "long-key"],
)
def test_bad_requests_are_refused_and_make_nothing(admin, kwargs, error):
    NotificationTemplateFactory(channel="email")
    arguments = {
        "event": "leave.approved",
        "recipients": [admin],
        "context": {},
        "channels": ["email"],
        "dedupe_key": "k",
        **kwargs,
    }

    with pytest.raises(error):
        notify(**arguments)

    assert Delivery.objects.count() == 0
    assert _deliver_tasks() == []


def test_notify_outside_a_tenant_fails_closed(db):
    from apps.core.errors import TenantContextMissingError

    with pytest.raises(TenantContextMissingError):
        notify(event="e", recipients=[], context={}, channels=["in_app"], dedupe_key="k")


def test_context_must_be_plain_data_so_a_template_cannot_reach_a_model(admin):
    NotificationTemplateFactory(channel="email", body="{{ user.password }}")

    with pytest.raises(TemplateInvalidError):
        notify(
            event="leave.approved",
            recipients=[admin],
            context={"user": admin},
            channels=["email"],
            dedupe_key="k",
        )

    assert Delivery.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "{% load static %}",
        '{% include "admin/base.html" %}',
        '{% extends "admin/base.html" %}',
        "{% debug %}",
        "{% autoescape off %}{{ x }}{% endautoescape %}",
        "{{ x|safe }}",
        '{{ x|ljust:"100000000" }}',
        "{% lorem 100000 w %}",
        "{% url 'admin:index' %}",
        "{% for a in x %}{% for b in x %}{% for c in x %}{% endfor %}{% endfor %}{% endfor %}",
        "{% if %}",
    ],
)
def test_templates_outside_the_restricted_language_are_refused(in_tenant_a, body):
    template = NotificationTemplate(event="e", channel="email", subject="s", body=body)

    with pytest.raises(ValidationError) as raised:
        template.full_clean()

    assert "body" in raised.value.message_dict


def test_broken_template_fails_the_delivery_not_the_caller(admin):
    # Saved around the form's validation, e.g. by a data import.
    NotificationTemplateFactory(channel="email", body="{% debug %}")

    (delivery,) = notify(
        event="leave.approved", recipients=[admin], context={}, channels=["email"], dedupe_key="k"
    )

    assert delivery.status == "failed"
    assert delivery.last_error.startswith("notifications.template_invalid")
    assert _deliver_tasks() == []


def test_opt_outs_set_adds_and_removes(admin):
    OptOut.objects.create(user=admin, channel="sms")

    channels = services.opt_outs_set(user=admin, channels={"email": True, "sms": False})

    assert channels == {"email": True, "sms": False, "whatsapp": False, "in_app": False}
    assert list(OptOut.objects.filter(user=admin).values_list("channel", flat=True)) == ["email"]


def test_mark_read_keeps_the_first_read_time(admin):
    notification = InAppNotification.objects.create(user=admin, event="e", title="t")
    first = services.in_app_notification_mark_read(notification=notification).read_at

    again = services.in_app_notification_mark_read(notification=notification)

    assert first is not None
    assert again.read_at == first
