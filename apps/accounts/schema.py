"""drf-spectacular: describe the tenant JWT authentication like SimpleJWT's own."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class TenantJWTScheme(SimpleJWTScheme):
    target_class = "apps.accounts.authentication.TenantJWTAuthentication"
    name = "tenantJWT"
