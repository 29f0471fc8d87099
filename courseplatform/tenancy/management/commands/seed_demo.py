"""Demo data for `make demo`: school `demo` with an owner and a student."""

from typing import Any

from django.core.management.base import BaseCommand

from courseplatform.accounts.models import User
from courseplatform.accounts.services import register_user
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.services import create_school

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.example"
OWNER_PASSWORD = "demo-owner-pass-2026"
STUDENT_EMAIL = "student@demo.example"
STUDENT_PASSWORD = "demo-student-pass-2026"


class Command(BaseCommand):
    help = "Create (idempotently) the demo school and print its credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=DEMO_SLUG).first()
        if school is None:
            school = create_school(
                slug=DEMO_SLUG,
                name="Demo Academy",
                owner_email=OWNER_EMAIL,
                owner_password=OWNER_PASSWORD,
                owner_name="Dana Owner",
                plan_code="premium",
            ).school
        with school_context(school):
            if not User.objects.filter(school=school, email=STUDENT_EMAIL).exists():
                register_user(
                    school=school,
                    email=STUDENT_EMAIL,
                    password=STUDENT_PASSWORD,
                    full_name="Sam Student",
                )
        self.stdout.write(self.style.SUCCESS("Demo school ready:"))
        self.stdout.write(f"  site:     {school_url(school, '/')}")
        self.stdout.write(
            f"  owner:    {OWNER_EMAIL} / {OWNER_PASSWORD}  ({school_url(school, '/manage/')})"
        )
        self.stdout.write(f"  student:  {STUDENT_EMAIL} / {STUDENT_PASSWORD}")
