from django_filters import rest_framework as filters

from apps.accounts.models import Role, User
from apps.core.api.filters import StrictBooleanFilter


class RoleFilter(filters.FilterSet):
    is_builtin = StrictBooleanFilter()

    class Meta:
        model = Role
        fields = ("is_builtin",)


class UserFilter(filters.FilterSet):
    is_active = StrictBooleanFilter()
    username = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = User
        fields = ("is_active", "username")
