"""Errors of the pipeline module, each with a stable code. Sections per sub-domain: add
new errors to your own section."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError

# --- network -------------------------------------------------------------------------


class ZoneCycleError(ApplicationError):
    code = "pipeline.zone_cycle"
    http_status = 409
    message = _("A zone cannot sit under itself or under one of its sub-zones.")


class InUseError(ApplicationError):
    code = "pipeline.in_use"
    http_status = 409
    message = _("Other records still refer to this one.")


class CodeTakenError(ApplicationError):
    code = "pipeline.code_taken"
    http_status = 409
    message = _("Another record already uses this code.")


# --- ingestion -----------------------------------------------------------------------


class DeviceKeyInvalidError(ApplicationError):
    code = "pipeline.device_key_invalid"
    http_status = 401
    message = _("The device key is unknown, revoked or expired.")


class BatchConflictError(ApplicationError):
    code = "pipeline.batch_conflict"
    http_status = 409
    message = _("This batch id was already used with other readings.")


class BatchMalformedError(ApplicationError):
    """The body is not a batch: not an object, unknown fields, ``readings`` not a list,
    or a reading that is not an object. ``details`` says where."""

    code = "pipeline.batch_malformed"
    http_status = 400
    message = _("The batch is malformed.")


class BatchIdInvalidError(ApplicationError):
    code = "pipeline.batch_id_invalid"
    http_status = 400
    message = _("batch_id must be a string of 1 to 100 letters, digits and . _ : - characters.")


class BatchRejectedError(ApplicationError):
    """Every reading of the batch was refused: nothing is stored, not even the batch, and
    ``details.rejections`` says why for each (as in a partly accepted batch's report)."""

    code = "pipeline.batch_rejected"
    http_status = 422
    message = _("Every reading of the batch was rejected; nothing was stored.")


class BatchEmptyError(ApplicationError):
    code = "pipeline.batch_empty"
    http_status = 400
    message = _("The batch has no readings.")


class BatchTooLargeError(ApplicationError):
    code = "pipeline.batch_too_large"
    http_status = 400
    message = _("A batch holds at most 10,000 readings.")


class ReadingWindowInvalidError(ApplicationError):
    code = "pipeline.reading_window_invalid"
    http_status = 400
    message = _("The reading window must end after it starts and span at most 400 days.")


# --- detection -----------------------------------------------------------------------


class AlarmNotActiveError(ApplicationError):
    code = "pipeline.alarm_not_active"
    http_status = 409
    message = _("The alarm is already cleared.")


# --- incidents -----------------------------------------------------------------------


class InvalidTransitionError(ApplicationError):
    code = "pipeline.invalid_transition"
    http_status = 409
    message = _("The incident cannot move to that status from its current one.")


class EscalationLoopError(ApplicationError):
    code = "pipeline.escalation_loop"
    http_status = 400
    message = _("The escalation policies would continue into each other in a loop.")


class OfferNotOpenError(ApplicationError):
    code = "pipeline.offer_not_open"
    http_status = 409
    message = _("The offer was already answered, withdrawn or has expired.")


class PolicySeverityTakenError(ApplicationError):
    code = "pipeline.policy_severity_taken"
    http_status = 409
    message = _("Another active escalation policy already covers this severity.")


class PolicyNameTakenError(ApplicationError):
    code = "pipeline.policy_name_taken"
    http_status = 409
    message = _("Another escalation policy already uses this name.")
