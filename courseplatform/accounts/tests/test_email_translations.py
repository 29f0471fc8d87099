"""The account emails (verification, password reset, invitation, "account exists") reach
each person in their language: their own (``User.language``), else their school's,
whatever language the request or task that sends them is in. Subject, plain text and
HTML, with the HTML's ``lang`` and ``dir`` following."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.utils.translation import override

from courseplatform.accounts import services
from courseplatform.accounts.models import User
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db


def _person(
    school: School, make_user: Callable[..., Any], email: str, language: str, name: str
) -> User:
    user = make_user(school, email)
    with school_context(school):
        User.objects.filter(pk=user.pk).update(language=language, full_name=name)
        user.refresh_from_db()
    return user


def _school_language(school: School, language: str) -> None:
    with school_context(school):
        school.language = language
        school.save(update_fields=["language", "updated_at"])


def _html(message: Any) -> str:
    return str(message.alternatives[0][0])


def test_every_account_email_is_in_arabic_for_a_person_who_chose_arabic(
    school_a: Any, make_user: Callable[..., Any]
) -> None:
    school = school_a.school
    _school_language(school, "de")  # their own choice beats the school's
    layla = _person(school, make_user, "layla@alpha.test", "ar", "Layla Haddad")
    mail.outbox.clear()
    # Sent from a request in English (the default): the recipient's language still wins.
    with override("en"), school_context(school):
        services.send_verification_email(school=school, user=layla)
        services.request_password_reset(school=school, email=layla.email)
        services.send_invitation(school=school, user=layla, course_title="Watercolour")
        services.notify_existing_account(school=school, email=layla.email)
    verify, reset, invitation, exists = mail.outbox
    name = school.name
    assert verify.subject == f"أكّد بريدك الإلكتروني لدى {name}"
    assert reset.subject == f"أعد تعيين كلمة مرورك لدى {name}"
    assert invitation.subject == f"تمت دعوتك إلى {name}"
    assert exists.subject == f"حاول أحدهم إنشاء حساب لدى {name}"
    assert "مرحبًا Layla،" in verify.body
    assert f"يُرجى تأكيد عنوان بريدك الإلكتروني لدى {name} بفتح هذا الرابط:" in verify.body
    assert "إن لم تكن أنت، فتجاهل هذه الرسالة" in reset.body
    assert "مُنحت صلاحية الوصول إلى «Watercolour»" in invitation.body
    assert "نسيت كلمة المرور؟ أعد تعيينها من هنا:" in exists.body
    for message in (verify, reset, invitation, exists):
        html = _html(message)
        assert '<html lang="ar" dir="rtl">' in html
        assert f"أرسلت {name} هذه الرسالة" in html  # the shared footer
        assert "Hi " not in message.body and "Hi " not in html
    assert "تأكيد بريدي الإلكتروني" in _html(verify)  # the button
    assert "اختيار كلمة المرور" in _html(invitation)


def test_an_account_email_follows_the_school_language_when_the_person_has_none(
    school_a: Any, make_user: Callable[..., Any]
) -> None:
    school = school_a.school
    _school_language(school, "es")
    pablo = _person(school, make_user, "pablo@alpha.test", "", "Pablo Ruiz")
    mail.outbox.clear()
    with override("de"), school_context(school):
        services.request_password_reset(school=school, email=pablo.email)
        services.send_invitation(school=school, user=pablo)
    reset, invitation = mail.outbox
    assert reset.subject == f"Restablece tu contraseña de {school.name}"
    assert reset.body.startswith("Hola, Pablo:")
    assert "Abre este enlace para elegir una nueva contraseña" in reset.body
    assert invitation.subject == f"Te invitaron a {school.name}"
    assert f"Te dieron acceso a {school.name}." in invitation.body
    html = _html(reset)
    assert '<html lang="es" dir="ltr">' in html
    assert "Elige una nueva contraseña" in html


def test_an_account_email_stays_english_by_default_and_plain_text_is_not_escaped(
    school_a: Any, make_user: Callable[..., Any]
) -> None:
    school = school_a.school
    with school_context(school):
        school.name = "Art & Design"
        school.save(update_fields=["name", "updated_at"])
    sam = _person(school, make_user, "sam@alpha.test", "", "Sam Lee")
    mail.outbox.clear()
    with override("ar"), school_context(school):
        services.send_verification_email(school=school, user=sam)
    [message] = mail.outbox
    assert message.subject == "Confirm your email for Art & Design"
    assert "Please confirm your email address for Art & Design by opening this link:" in (
        message.body
    )
    html = _html(message)
    assert '<html lang="en" dir="ltr">' in html and "Art &amp; Design" in html
