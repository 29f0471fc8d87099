from __future__ import annotations

from django.db.models import Count, QuerySet

from courseplatform.tenancy.models import School
from courseplatform.tenancy.usage import figure_query

from .models import User


def list_school_people(*, school: School) -> QuerySet[User]:
    return (
        User.objects.filter(school=school)
        .order_by("role", "email")
        .only(
            "id",
            "email",
            "full_name",
            "role",
            "date_joined",
            "last_login",
            "email_verified_at",
            "school_id",
        )
    )


def get_school_user(*, school: School, user_id: int) -> User:
    """Same DoesNotExist for a missing id and another school's id."""
    return User.objects.get(school=school, pk=user_id)


def count_students(*, school: School) -> int:
    return User.objects.filter(school=school, role=User.Role.STUDENT).count()


def count_students_query(school: School) -> QuerySet[User]:
    """``count_students`` as a usage query (tenancy.usage.figure_query)."""
    return figure_query(User.objects.filter(school=school, role=User.Role.STUDENT), Count("pk"))
