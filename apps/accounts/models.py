import uuid

from django.contrib.auth.models import AbstractUser, Permission
from django.db import models
from django.utils import timezone


class Role(models.Model):
    """A named set of permissions inside one tenant (e.g. ``manager``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_builtin = models.BooleanField(default=False, editable=False)
    permissions = models.ManyToManyField(Permission, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        permissions = [("assign_role", "Can assign roles to users")]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person of one tenant (in its schema) or an operator (in public). Never shared."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username


class ScopeGrant(models.Model):
    """Grants a user the rows of one scope value (a department, a zone, a ward...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scope_grants")
    scope_type = models.CharField(max_length=64)
    scope_value = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope_type", "scope_value"], name="accounts_scope_grant_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.scope_type}={self.scope_value}"
