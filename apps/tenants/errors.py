from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError


class TenantSchemaNameInvalidError(ApplicationError):
    code = "tenants.schema_name_invalid"
    message = _("Schema names are 3-50 lowercase letters, digits and underscores.")


class TenantAlreadyExistsError(ApplicationError):
    code = "tenants.already_exists"
    http_status = 409
    message = _("A tenant with this schema name or domain already exists.")


class TenantStateError(ApplicationError):
    code = "tenants.invalid_state"
    http_status = 409
    message = _("The tenant is not in a state that allows this.")


class UnknownModuleError(ApplicationError):
    code = "tenants.unknown_module"
    message = _("No such module.")
