from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import selectors, services
from apps.accounts.filters import RoleFilter, UserFilter
from apps.accounts.models import Role, User
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(StrictSerializer):
    refresh = serializers.CharField()


class TokenObtainApi(TenantApi):
    """Username and password -> a token pair that only works on this tenant's host."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema_serializer(component_name="TokenObtain")
    class InputSerializer(StrictSerializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: TokenPairSerializer, 400: ERROR, 401: ERROR, 429: ERROR},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        tokens = services.login_tokens_issue(**payload.validated_data)
        return Response(tokens)


class TokenRefreshApi(TenantApi):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, 400: ERROR, 401: ERROR},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        payload = RefreshInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return Response(services.refresh_token_rotate(refresh=payload.validated_data["refresh"]))


class LogoutApi(TenantApi):
    """Blacklists the refresh token: it can no longer be refreshed."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=RefreshInputSerializer, responses={204: None, 400: ERROR, 401: ERROR}, auth=[]
    )
    def post(self, request: Request) -> Response:
        payload = RefreshInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.refresh_token_blacklist(refresh=payload.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(TenantApi):
    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField(source="user.id")
        username = serializers.CharField(source="user.username")
        email = serializers.EmailField(source="user.email")
        first_name = serializers.CharField(source="user.first_name")
        last_name = serializers.CharField(source="user.last_name")
        tenant = serializers.SerializerMethodField()
        roles = serializers.ListField(child=serializers.CharField())
        permissions = serializers.ListField(child=serializers.CharField())
        scopes = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))

        def get_tenant(self, data: dict) -> dict:
            return data["tenant"]

    @extend_schema(responses={200: OutputSerializer, 401: ERROR})
    def get(self, request: Request) -> Response:
        actor = self.actor
        tenant = request.tenant
        data = {
            "user": actor.user,
            "tenant": {
                "id": str(tenant.pk),
                "schema_name": tenant.schema_name,
                "name": tenant.name,
                "time_zone": tenant.time_zone,
                "modules": sorted(request.tenant_modules),
            },
            "roles": sorted(actor.roles),
            "permissions": sorted(actor.permissions),
            "scopes": {key: sorted(values) for key, values in actor.scopes.items()},
        }
        return Response(self.OutputSerializer(data).data)


# --- Roles -----------------------------------------------------------------------------------


class RoleOutputSerializer(serializers.ModelSerializer):
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = ("id", "slug", "name", "description", "is_builtin", "permissions", "created_at")

    def get_permissions(self, role: Role) -> list[str]:
        return sorted(selectors.permission_codename(p) for p in role.permissions.all())


class RoleInputSerializer(StrictSerializer):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=500
    )


class RoleListCreateApi(TenantApi):
    ordering_fields = ("slug", "name", "created_at")
    filterset_class = RoleFilter

    def get_queryset(self) -> QuerySet[Role]:
        return Role.objects.none()

    @extend_schema(responses={200: RoleOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(selectors.role_list(actor=self.actor), RoleOutputSerializer)

    @extend_schema(
        request=RoleInputSerializer,
        responses={201: RoleOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = RoleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        role = services.role_create(actor=self.actor, **payload.validated_data)
        return Response(RoleOutputSerializer(role).data, status=status.HTTP_201_CREATED)


class RoleDetailApi(TenantApi):
    @extend_schema(responses={200: RoleOutputSerializer, 404: ERROR})
    def get(self, request: Request, role_id: str) -> Response:
        role = selectors.role_get(actor=self.actor, role_id=role_id)
        return Response(RoleOutputSerializer(role).data)

    @extend_schema(
        request=RoleInputSerializer(partial=True),
        responses={200: RoleOutputSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, role_id: str) -> Response:
        role = selectors.role_get(actor=self.actor, role_id=role_id)
        payload = RoleInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        role = services.role_update(actor=self.actor, role=role, data=payload.validated_data)
        return Response(RoleOutputSerializer(role).data)

    @extend_schema(responses={204: None, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, role_id: str) -> Response:
        role = selectors.role_get(actor=self.actor, role_id=role_id)
        services.role_delete(actor=self.actor, role=role)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PermissionListApi(TenantApi):
    """Every permission codename a role can hold."""

    pagination_class = None

    @extend_schema(
        responses={
            200: inline_serializer(
                "PermissionList",
                {"permissions": serializers.ListField(child=serializers.CharField())},
            )
        }
    )
    def get(self, request: Request) -> Response:
        selectors.require_perm(self.actor, "accounts.view_role")
        codenames = [selectors.permission_codename(p) for p in selectors.permission_list()]
        return Response({"permissions": codenames})


# --- Users -----------------------------------------------------------------------------------


class UserOutputSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "roles",
            "created_at",
        )


class UserInputSerializer(StrictSerializer):
    username = serializers.RegexField(r"^[\w.@+-]+$", max_length=150)
    password = serializers.CharField(
        max_length=128, min_length=8, required=False, write_only=True, trim_whitespace=False
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    roles = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, default=list, max_length=50
    )


class UserUpdateSerializer(StrictSerializer):
    password = serializers.CharField(
        max_length=128, min_length=8, required=False, write_only=True, trim_whitespace=False
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    roles = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=50
    )


class UserListCreateApi(TenantApi):
    ordering_fields = ("username", "created_at")
    filterset_class = UserFilter

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.none()

    @extend_schema(responses={200: UserOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(selectors.user_list(actor=self.actor), UserOutputSerializer)

    @extend_schema(
        request=UserInputSerializer,
        responses={201: UserOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = UserInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        user = services.user_create(actor=self.actor, password=data.pop("password", None), **data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(TenantApi):
    @extend_schema(responses={200: UserOutputSerializer, 404: ERROR})
    def get(self, request: Request, user_id: str) -> Response:
        user = selectors.user_get(actor=self.actor, user_id=user_id)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(
        request=UserUpdateSerializer,
        responses={200: UserOutputSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, user_id: str) -> Response:
        user = selectors.user_get(actor=self.actor, user_id=user_id)
        payload = UserUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = services.user_update(actor=self.actor, user=user, data=payload.validated_data)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(responses={204: None, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, user_id: str) -> Response:
        """Deactivates the user (kept for the audit trail)."""
        user = selectors.user_get(actor=self.actor, user_id=user_id)
        services.user_deactivate(actor=self.actor, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)
