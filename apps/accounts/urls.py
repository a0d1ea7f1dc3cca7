from django.urls import path

from apps.accounts import apis

urlpatterns = [
    path("auth/token/", apis.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", apis.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("roles/", apis.RoleListCreateApi.as_view(), name="role-list"),
    path("roles/<uuid:role_id>/", apis.RoleDetailApi.as_view(), name="role-detail"),
    path("permissions/", apis.PermissionListApi.as_view(), name="permission-list"),
    path("users/", apis.UserListCreateApi.as_view(), name="user-list"),
    path("users/<uuid:user_id>/", apis.UserDetailApi.as_view(), name="user-detail"),
]
