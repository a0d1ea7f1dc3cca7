from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError


class TokenWrongTenantError(ApplicationError):
    code = "token_not_valid"
    http_status = 401
    message = _("The token is invalid or expired.")


class LoginThrottledError(ApplicationError):
    code = "accounts.login_throttled"
    http_status = 429
    message = _("Too many failed logins for this user. Try again later.")


class InvalidCredentialsError(ApplicationError):
    code = "accounts.invalid_credentials"
    http_status = 401
    message = _("No active account found with the given credentials.")


class RoleBuiltinError(ApplicationError):
    code = "accounts.role_builtin"
    http_status = 409
    message = _("Built-in roles cannot be deleted or renamed.")


class UnknownPermissionError(ApplicationError):
    code = "accounts.unknown_permission"
    message = _("Unknown permission codename.")


class UsernameTakenError(ApplicationError):
    code = "accounts.username_taken"
    http_status = 409
    message = _("This username is already taken.")


class LastAdminError(ApplicationError):
    code = "accounts.last_admin"
    http_status = 409
    message = _("The last tenant admin cannot lose the role or be deactivated.")


class UnknownRoleError(ApplicationError):
    code = "accounts.unknown_role"
    message = _("Unknown role.")


class RoleSlugTakenError(ApplicationError):
    code = "accounts.role_slug_taken"
    http_status = 409
    message = _("A role with this slug already exists.")
