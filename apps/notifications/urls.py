from django.urls import path

from apps.notifications import apis

urlpatterns = [
    path("notifications/", apis.InAppNotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/<uuid:notification_id>/read/",
        apis.InAppNotificationReadApi.as_view(),
        name="notification-read",
    ),
    path(
        "notifications/opt-outs/",
        apis.OptOutSettingsApi.as_view(),
        name="notification-opt-outs",
    ),
    path(
        "notifications/deliveries/",
        apis.DeliveryListApi.as_view(),
        name="notification-deliveries",
    ),
    path(
        "notifications/webhooks/sendgrid/",
        apis.SendGridWebhookApi.as_view(),
        name="notification-webhook-sendgrid",
    ),
    path(
        "notifications/webhooks/twilio/",
        apis.TwilioWebhookApi.as_view(),
        name="notification-webhook-twilio",
    ),
]
