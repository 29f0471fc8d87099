from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from courseplatform.tenancy.languages import validate_language
from courseplatform.tenancy.models import School, TenantModel


def normalize_email(email: str) -> str:
    # Whole address lowercased: people type their address in any case and expect
    # to be recognised; no mail provider we care about is case-sensitive.
    return (email or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self,
        email: str,
        password: str | None = None,
        *,
        school: School | None = None,
        **extra: Any,
    ) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), school=school, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        """Platform staff: no school, full admin rights."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("full_name", "Platform staff")
        extra.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, school=None, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person in one school's user pool, or platform staff (no school).

    The same email address in two schools is two unrelated accounts.
    """

    class Role(models.TextChoices):
        OWNER = "owner", pgettext_lazy("role", "Owner")
        INSTRUCTOR = "instructor", pgettext_lazy("role", "Instructor")
        STUDENT = "student", pgettext_lazy("role", "Student")

    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    email = models.EmailField(max_length=254)
    full_name = models.CharField(max_length=120)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    is_staff = models.BooleanField(default=False, help_text="Platform operator (no school).")
    is_active = models.BooleanField(default=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # The person's own language ("" = the school's); accounts/language.py.
    language = models.CharField(
        max_length=10, blank=True, default="", validators=[validate_language]
    )

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "email"], name="user_email_unique_per_school"
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(school__isnull=True),
                name="staff_email_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(school__isnull=False) | models.Q(is_staff=True),
                name="user_without_school_is_staff",
            ),
            models.CheckConstraint(
                condition=models.Q(school__isnull=True) | models.Q(is_staff=False),
                name="staff_have_no_school",
            ),
        ]

    # Set on instances rebuilt from the user cache (accounts/user_cache.py), which holds
    # no password: the session hash Django derives from it, computed when cached.
    cached_session_auth_hash: str | None = None

    def __str__(self) -> str:
        return self.email

    def get_session_auth_hash(self) -> str:
        # The cached hash stands for the password only while the password column was
        # never loaded or set on this instance (set_password changes it: compute anew).
        if self.cached_session_auth_hash and "password" in self.get_deferred_fields():
            return self.cached_session_auth_hash
        return super().get_session_auth_hash()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def can_manage_school(self) -> bool:
        """Owner or instructor of their own school (for templates; see ``permissions``)."""
        from .permissions import can_manage_school

        return self.school_id is not None and can_manage_school(self, self.school_id)

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None


class LoginLink(TenantModel):
    """A one-time, short-lived link that signs a user in on their school's host.

    The link itself is signed (forgeries are refused without a query); this row
    makes it single-use: consuming it is a conditional UPDATE on ``used_at``.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    nonce_digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
