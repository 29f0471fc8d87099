"""Branding images off the happy path: a small favicon is scaled up to fill 64x64, an
unknown kind is refused, and a theme save that fails removes the file it just stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from PIL import Image

from courseplatform.ops.files import UploadRejected
from courseplatform.sites import theming
from courseplatform.sites.models import Theme
from courseplatform.tenancy.rls import school_context

from .test_theme import image_upload

pytestmark = pytest.mark.django_db


def test_small_square_favicon_is_scaled_up_to_fill_the_icon(school_a: Any) -> None:
    school = school_a.school
    with school_context(school):
        theme = theming.set_favicon(
            school=school,
            actor=school_a.owner,
            upload=image_upload(size=(20, 20), colour=(200, 0, 0, 255)),
        )
        with default_storage.open(theme.favicon_key, "rb") as handle:
            icon = Image.open(handle)
            icon.load()
    assert icon.size == (theming.FAVICON_SIDE, theming.FAVICON_SIDE)
    # Filled edge to edge, not a 20 px square on a transparent canvas.
    alpha = icon.getchannel("A")
    assert alpha.getpixel((2, 2)) == 255 and alpha.getpixel((61, 61)) == 255


def test_clearing_an_unknown_branding_kind_is_refused(school_a: Any) -> None:
    school = school_a.school
    with school_context(school), pytest.raises(ValidationError, match="Unknown branding image"):
        theming.clear_branding_image(school=school, actor=school_a.owner, kind="banner")  # type: ignore[arg-type]


def test_a_failed_theme_save_removes_the_newly_stored_logo(
    school_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = school_a.school
    stored: list[str] = []
    real_store = theming.store_school_file

    def remember(**kwargs: Any) -> str:
        key = real_store(**kwargs)
        stored.append(key)
        return key

    def database_down(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("database went away")

    monkeypatch.setattr(theming, "store_school_file", remember)
    monkeypatch.setattr(theming, "record_audit", database_down)
    with school_context(school), pytest.raises(DatabaseError):
        theming.set_logo(school=school, actor=school_a.owner, upload=image_upload())
    assert len(stored) == 1 and not default_storage.exists(stored[0])
    with school_context(school):
        assert Theme.objects.get(school=school).logo_key == ""


def test_a_truncated_image_is_refused_and_nothing_is_stored(school_a: Any) -> None:
    school = school_a.school
    whole = image_upload(size=(300, 300)).read()
    broken = SimpleUploadedFile("logo.png", whole[: len(whole) // 2], content_type="image/png")
    with school_context(school), pytest.raises(UploadRejected, match="not an image we can read"):
        theming.set_logo(school=school, actor=school_a.owner, upload=broken)
    with school_context(school):
        assert Theme.objects.get(school=school).logo_key == ""


def test_a_new_logo_deletes_the_old_file_once_committed(
    school_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    school = school_a.school
    with school_context(school):
        first = theming.set_logo(school=school, actor=school_a.owner, upload=image_upload())
        old_key = first.logo_key
        with django_capture_on_commit_callbacks(execute=True):
            second = theming.set_logo(
                school=school, actor=school_a.owner, upload=image_upload(colour=(0, 0, 0, 255))
            )
    assert second.logo_key != old_key
    assert default_storage.exists(second.logo_key) and not default_storage.exists(old_key)
