"""The outbox: written in the caller's transaction, sent after commit, relayed when the
broker could not take it, run inline only by the tasks that allow it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.core.errors import TenantContextMissingError
from apps.core.tenancy import in_tenant
from apps.jobs import dispatch
from apps.jobs.dispatch import enqueue, publish, relay_pending
from apps.jobs.models import OutboxMessage
from tests.jobs.tasks_for_tests import record, record_inline, record_low
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def test_enqueue_writes_the_row_in_the_callers_transaction_and_sends_after_commit(
    in_tenant_a, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = enqueue(record, key="k")
        assert OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).exists()
        assert sent == []

    assert len(callbacks) == 1
    assert sent == [
        {
            "name": "tests.jobs.record",
            "kwargs": {"schema_name": TENANT_A, "key": "k"},
            "queue": "default",
            "countdown": None,
            "task_id": str(message.pk),
            "retry": False,
        }
    ]
    message.refresh_from_db()
    assert message.sent_at is not None
    assert (message.attempts, message.last_error) == (1, "")


def test_nothing_is_written_or_sent_when_the_transaction_rolls_back(
    in_tenant_a, sent, django_capture_on_commit_callbacks
):
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            enqueue(record, key="rolled-back")
            raise Rollback

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Rollback):
        enqueue_then_fail()

    assert callbacks == []
    assert sent == []
    assert not OutboxMessage.objects.exists()


def test_enqueue_keeps_the_tasks_queue_and_the_countdown(
    in_tenant_a, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue(record_low, countdown=30, key="low")

    assert (message.queue, message.countdown) == ("low", 30)
    assert (sent[0]["queue"], sent[0]["countdown"]) == ("low", 30)


def test_enqueue_outside_a_tenant_is_refused(db, sent):
    with pytest.raises(TenantContextMissingError):
        enqueue(record, key="public")

    assert sent == []
    for schema_name in (TENANT_A, TENANT_B):
        with in_tenant(schema_name):
            assert not OutboxMessage.objects.exists()


def _pending(**fields) -> OutboxMessage:
    return OutboxMessage.objects.create(
        task_name="tests.jobs.record",
        kwargs={"schema_name": TENANT_A, "key": "pending"},
        queue="default",
        **fields,
    )


def test_a_message_is_sent_once_however_often_it_is_published(in_tenant_a, sent):
    message = _pending()

    assert publish(schema_name=TENANT_A, message_id=message.pk) is True
    assert publish(schema_name=TENANT_A, message_id=message.pk) is False

    assert [call["task_id"] for call in sent] == [str(message.pk)]


def test_a_message_claimed_by_another_sender_is_left_to_it(in_tenant_a, sent):
    message = _pending(claimed_at=timezone.now())

    assert publish(schema_name=TENANT_A, message_id=message.pk) is False

    assert sent == []
    message.refresh_from_db()
    assert message.sent_at is None


def test_a_stale_claim_of_a_dead_sender_is_taken_over(in_tenant_a, sent):
    message = _pending(claimed_at=timezone.now() - dispatch.CLAIM_TIMEOUT - timedelta(seconds=1))

    assert publish(schema_name=TENANT_A, message_id=message.pk) is True

    assert [call["task_id"] for call in sent] == [str(message.pk)]


def test_a_refusing_broker_leaves_the_message_pending_and_the_caller_unharmed(
    in_tenant_a, refusing_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue(record, key="broker-down")

    message.refresh_from_db()
    assert message.sent_at is None
    assert message.claimed_at is None
    assert message.attempts == 1
    assert "127.0.0.1:1" in message.last_error


def test_an_inline_task_runs_in_process_when_the_broker_refuses(
    in_tenant_a, refusing_broker, effect_table, django_capture_on_commit_callbacks
):
    from tests.jobs.live import effects

    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue(record_inline, key="inline")

    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.attempts == 1
    assert [(row["kind"], row["schema_name"], row["task_id"]) for row in effects()] == [
        ("inline", TENANT_A, str(message.pk))
    ]


def test_relay_sends_pending_messages_past_the_grace_period_only(in_tenant_a, sent):
    old = _pending(created_at=timezone.now() - dispatch.RELAY_GRACE - timedelta(seconds=1))
    young = _pending()

    assert relay_pending() == 1

    assert [call["task_id"] for call in sent] == [str(old.pk)]
    young.refresh_from_db()
    assert young.sent_at is None


def test_relay_stops_a_round_while_the_broker_is_still_down(in_tenant_a, monkeypatch):
    from config.celery import app

    calls = []

    def broker_down(name, **options):
        calls.append(name)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", broker_down)
    created = timezone.now() - timedelta(minutes=5)
    messages = [_pending(created_at=created + timedelta(seconds=i)) for i in range(3)]

    assert relay_pending() == 0

    assert len(calls) == 1
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 3
    messages[0].refresh_from_db()
    assert (messages[0].attempts, messages[0].claimed_at) == (1, None)
    assert "Connection refused" in messages[0].last_error


def test_pending_schemas_lists_only_tenants_with_old_unsent_messages(db):
    with in_tenant(TENANT_B):
        _pending(created_at=timezone.now() - timedelta(minutes=5))
    with in_tenant(TENANT_A):
        _pending()

    assert dispatch.pending_schemas() == [TENANT_B]


def test_after_a_broker_failure_enqueues_do_not_wait_for_it(
    in_tenant_a, refusing_broker, django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    original = dispatch.current_app.send_task

    def counting_send_task(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(dispatch.current_app, "send_task", counting_send_task)
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue(record, key="first")
    with django_capture_on_commit_callbacks(execute=True):
        second = enqueue(record, key="second")

    # Only the first tried the broker; the second went straight to the outbox.
    assert len(calls) == 1
    assert list(
        OutboxMessage.objects.filter(pk__in=[first.pk, second.pk], sent_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)
    ) == [first.pk, second.pk]
