from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import User, normalize_email
from .user_cache import load_user


class SchoolEmailBackend(ModelBackend):
    """Authenticate by email within the request's school only.

    On a school host only that school's pool is searched; on the platform host
    only platform staff (school is NULL). A school B account therefore cannot
    sign in on school A's host even with the right password.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        email: str | None = None,
        password: str | None = None,
        username: str | None = None,  # Django admin's login form passes "username"
        **kwargs: Any,
    ) -> User | None:
        address = normalize_email(email or username or "")
        if not address or password is None or request is None:
            return None
        school = getattr(request, "school", None)
        user = User.objects.filter(school=school, email=address).first()
        if user is None:
            # Spend the same time as a real check so timing does not reveal accounts.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        # Every request of a signed-in person: from the user cache (see user_cache.py
        # for why that cannot outlive a change to the account).
        user = load_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
