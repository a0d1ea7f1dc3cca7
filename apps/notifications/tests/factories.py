from __future__ import annotations

import uuid

import factory

from apps.notifications.crypto import secret_encrypt
from apps.notifications.models import (
    ChannelProvider,
    Delivery,
    InAppNotification,
    NotificationTemplate,
)


class NotificationTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationTemplate

    event = "leave.approved"
    channel = "email"
    subject = "Hello {{ recipient.first_name }}"
    body = "<p>{{ message }}</p>"


class ChannelProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelProvider

    class Params:
        secret = ""

    channel = "email"
    kind = "console"
    settings = factory.LazyFunction(dict)
    secret_encrypted = factory.LazyAttribute(lambda provider: secret_encrypt(provider.secret))


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    event = "leave.approved"
    channel = "email"
    address = "someone@example.test"
    dedupe_key = factory.LazyFunction(lambda: f"test:{uuid.uuid4().hex}")
    subject = "Subject"
    body = "<p>Body</p>"


class InAppNotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InAppNotification

    event = "leave.approved"
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Body"
