"""Creating a school in one step: the school, its owner and its default site.

This composes tenancy (the school), accounts (the owner) and sites (theme and landing
page), so it lives above them; ``tenancy`` itself knows none of those apps.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from courseplatform.accounts.models import User, normalize_email
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.sites.services import create_default_site
from courseplatform.tenancy.languages import validate_language
from courseplatform.tenancy.models import Plan, School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.slugs import normalize_slug, slug_problem

SCHOOL_NAME_MAX = 120


@dataclass(frozen=True)
class NewSchool:
    school: School
    owner: User


def create_school(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None,
    owner_name: str,
    plan_code: str = Plan.FREE,
    language: str = "en",
    ip: str | None = None,
) -> NewSchool:
    """Create a school with its owner, default theme and published landing page.

    All or nothing: any failure (taken slug, weak password, …) leaves no trace.
    ``owner_password=None`` creates an owner who must set a password by reset.
    ``language`` is the school's (``School.language``; "" follows each visitor's browser).
    """
    slug = normalize_slug(slug)
    problem = slug_problem(slug)
    if problem:
        raise ValidationError({"slug": problem})
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give your school a name.")})
    if len(name) > SCHOOL_NAME_MAX:
        raise ValidationError(
            {"name": _("Use at most %(count)d characters.") % {"count": SCHOOL_NAME_MAX}}
        )
    validate_single_line(name, field="name")
    validate_single_line(owner_name, field="full_name")
    try:
        validate_language(language)
    except ValidationError as exc:
        raise ValidationError({"language": exc.messages}) from exc
    try:
        plan = Plan.objects.get(code=plan_code)
    except Plan.DoesNotExist as exc:
        raise ValidationError({"plan": f"Unknown plan {plan_code!r}."}) from exc
    address = normalize_email(owner_email)
    if owner_password is not None:
        try:
            validate_password(owner_password, user=User(email=address, full_name=owner_name))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc

    try:
        with transaction.atomic():
            school = School.objects.create(slug=slug, name=name, plan=plan, language=language)
            with school_context(school):
                owner = User.objects.create_user(
                    address,
                    owner_password,
                    school=school,
                    full_name=owner_name.strip(),
                    role=User.Role.OWNER,
                )
                create_default_site(school=school)
                record_audit(
                    school=school,
                    actor=owner,
                    action="school.created",
                    target=school,
                    data={"slug": slug, "plan": plan.code, "language": language},
                    ip=ip,
                )
    except IntegrityError as exc:
        raise ValidationError({"slug": _("This subdomain is already taken.")}) from exc
    return NewSchool(school=school, owner=owner)
