"""Codes: format and entropy, storage without plaintext, encryption and key rotation,
and the forgiving normalisation of what people type."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from courseplatform.access import codes
from courseplatform.access.models import AccessCode
from courseplatform.access.services import create_batch
from courseplatform.courses.services import create_course
from courseplatform.ops.models import AuditLog

FORMATTED = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


def _course(school: Any, owner: Any, in_school: Callable[..., Any], title: str = "Course") -> Any:
    with in_school(school):
        return create_course(school=school, actor=owner, title=title)


# --- format and entropy --------------------------------------------------------------------


def test_generate_code_has_80_bits_from_a_32_character_alphabet() -> None:
    assert len(codes.ALPHABET) == 32 == len(set(codes.ALPHABET))
    assert not set("ILOU") & set(codes.ALPHABET)  # Crockford: no look-alikes, no U
    assert codes.CODE_CHARS == 16  # 16 x log2(32) = 80 bits
    samples = [codes.generate_code() for _ in range(2000)]
    for code in samples:
        assert len(code) == 16 and set(code) <= set(codes.ALPHABET)
        assert FORMATTED.fullmatch(codes.format_code(code))
    # Every symbol turns up, in every position's neighbourhood: no stuck bits.
    assert set("".join(samples)) == set(codes.ALPHABET)
    assert {c[0] for c in samples} == set(codes.ALPHABET)
    assert {c[-1] for c in samples} == set(codes.ALPHABET)
    assert len(set(samples)) == len(samples)


def test_format_code_groups_of_four() -> None:
    assert codes.format_code("K7QM3XTA9BDRW2HN") == "K7QM-3XTA-9BDR-W2HN"


# --- a 10,000-code batch --------------------------------------------------------------------


def test_create_batch_ten_thousand_distinct_codes_stored_without_plaintext(
    school_a: Any, in_school: Callable[..., Any]
) -> None:
    school, owner = school_a.school, school_a.owner
    course = _course(school, owner, in_school)
    with in_school(school):
        new = create_batch(
            school=school, actor=owner, name="Big", course_ids=[course.pk], code_count=10_000
        )
        rows = list(AccessCode.objects.filter(school=school, batch=new.batch))

    assert len(new.codes) == 10_000 == len(set(new.codes)) == len(rows)
    assert all(FORMATTED.fullmatch(code) for code in new.codes)
    by_digest = {row.digest: row for row in rows}
    assert len(by_digest) == 10_000
    for formatted in new.codes:
        bare = formatted.replace("-", "")
        row = by_digest[codes.code_digest(bare)]  # every code is findable by its digest
        stored = f"{row.digest} {row.ciphertext}"
        assert bare not in stored and formatted not in stored
        assert bare.lower() not in stored.lower()

    # "grep" the whole table, every column as text, for some plaintexts: absent.
    with in_school(school), connection.cursor() as cursor:
        for formatted in new.codes[:: 10_000 // 50]:
            for needle in (formatted, formatted.replace("-", "")):
                cursor.execute(
                    "SELECT count(*) FROM access_accesscode t "
                    "WHERE upper(t::text) LIKE '%%' || %s || '%%'",
                    [needle],
                )
                assert cursor.fetchone()[0] == 0, needle
        cursor.execute("SELECT count(*) FROM access_accesscode")
        assert cursor.fetchone()[0] == 10_000  # the query really sees the rows
    with in_school(school):
        audit_text = " ".join(
            f"{a.action} {a.target_id} {a.data}" for a in AuditLog.objects.filter(school=school)
        )
    assert not any(code.replace("-", "") in audit_text.replace("-", "") for code in new.codes)


# --- encryption ----------------------------------------------------------------------------


def test_encrypt_decrypt_round_trip() -> None:
    code = codes.generate_code()
    first, second = codes.encrypt_code(code), codes.encrypt_code(code)
    assert first != second  # random IV: equal codes do not give equal ciphertexts
    assert code not in first
    assert codes.decrypt_code(first) == codes.decrypt_code(second) == code


def test_decrypt_with_an_unknown_key_is_a_clear_error(settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = codes.encrypt_code("K7QM3XTA9BDRW2HN")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="not configured"):
        codes.decrypt_code(token)


def _set_keys(settings: Any, keys: list[str]) -> None:
    settings.ENCRYPTION_KEYS = keys


@pytest.mark.django_db(transaction=True)
def test_rotate_access_code_keys_reencrypts_every_school(
    settings: Any, school_a: Any, school_b: Any, in_school: Callable[..., Any]
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    _set_keys(settings, [old])
    plaintext: dict[int, str] = {}
    before: dict[int, str] = {}
    for created in (school_a, school_b):
        school, owner = created.school, created.owner
        course = _course(school, owner, in_school)
        with in_school(school):
            batch = create_batch(
                school=school, actor=owner, name="Rotate", course_ids=[course.pk], code_count=3
            ).batch
            for row in AccessCode.objects.filter(school=school, batch=batch):
                plaintext[row.pk] = codes.format_code(codes.decrypt_code(row.ciphertext))
                before[row.pk] = row.ciphertext
    assert len(plaintext) == 6

    _set_keys(settings, [new, old])
    out = io.StringIO()
    call_command("rotate_access_code_keys", "--chunk-size", "4", stdout=out)
    assert "Re-encrypted 6 access codes" in out.getvalue()

    _set_keys(settings, [new])  # the old key is gone
    for created in (school_a, school_b):
        with in_school(created.school):
            for row in AccessCode.objects.filter(school=created.school):
                assert row.ciphertext != before[row.pk]
                assert codes.format_code(codes.decrypt_code(row.ciphertext)) == plaintext[row.pk]
    _set_keys(settings, [old])
    with in_school(school_a.school):
        some = AccessCode.objects.filter(school=school_a.school).first()
        assert some is not None
        with pytest.raises(ValueError):
            codes.decrypt_code(some.ciphertext)
    # The cross-school run went through the audited bypass.
    with in_school(None):
        assert AuditLog.objects.filter(
            action="platform.rls_bypass", data__reason="rotate access code keys"
        ).exists()


@pytest.mark.django_db(transaction=True)
def test_rotate_access_code_keys_reports_codes_no_key_can_open(
    settings: Any, school_a: Any, in_school: Callable[..., Any]
) -> None:
    from django.core.management.base import CommandError

    lost = Fernet.generate_key().decode()
    _set_keys(settings, [lost])
    school, owner = school_a.school, school_a.owner
    course = _course(school, owner, in_school)
    with in_school(school):
        create_batch(school=school, actor=owner, name="Lost", course_ids=[course.pk], code_count=2)
    _set_keys(settings, [Fernet.generate_key().decode()])
    with pytest.raises(CommandError, match="2 code"):
        call_command("rotate_access_code_keys", stdout=io.StringIO())


# --- normalisation (property-based) ----------------------------------------------------------

code_strategy = st.text(alphabet=codes.ALPHABET, min_size=16, max_size=16)

# What documents, chat apps and PDFs put into a pasted code instead of a plain
# hyphen or space, or invisibly between its characters.
PASTED_SEPARATORS = {
    "en dash": "\u2013",
    "em dash": "\u2014",
    "figure dash": "\u2012",
    "horizontal bar": "\u2015",
    "hyphen": "\u2010",
    "non-breaking hyphen": "\u2011",
    "minus sign": "\u2212",
    "superscript minus": "\u207b",
    "heavy minus sign": "\u2796",
    "small em dash": "\ufe58",
    "small hyphen-minus": "\ufe63",
    "full-width hyphen-minus": "\uff0d",
    "soft hyphen": "\u00ad",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "right-to-left override": "\u202e",
    "no-break space": "\u00a0",
    "narrow no-break space": "\u202f",
    "ideographic space": "\u3000",
    "line separator": "\u2028",
    "variation selector 16": "\ufe0f",
    "combining grapheme joiner": "\u034f",
    "Hangul filler": "\u3164",
}
TYPED_SEPARATORS = [" ", "-", "  ", " - ", "\t", "--", *PASTED_SEPARATORS.values()]


def full_width(char: str) -> str:
    """The full-width form (U+FF01..U+FF5E) of an ASCII letter or digit."""
    return chr(ord(char) + 0xFEE0)


@st.composite
def typed_versions(draw: Any) -> tuple[str, str]:
    """A code and the way a person might type or paste it: any case, look-alikes,
    full-width characters, spaces, dashes and invisible characters."""
    code = draw(code_strategy)
    out = []
    for i, char in enumerate(code):
        if i and draw(st.booleans()):
            out.append(draw(st.sampled_from(TYPED_SEPARATORS)))
        if char == "0":
            char = draw(st.sampled_from(["0", "O", "o"]))
        elif char == "1":
            char = draw(st.sampled_from(["1", "I", "i", "L", "l"]))
        elif draw(st.booleans()):
            char = char.lower()
        if draw(st.integers(0, 9)) == 0:
            char = full_width(char)
        out.append(char)
    ends = st.sampled_from(["", " ", "\n", "\u00a0", "\u200b", "\ufeff", "\u2028"])
    typed = draw(ends) + "".join(out) + draw(ends)
    return code, typed


@hsettings(max_examples=300, deadline=None)
@given(typed_versions())
def test_normalize_code_accepts_what_people_type(pair: tuple[str, str]) -> None:
    code, typed = pair
    if len(typed) <= 64:
        assert codes.normalize_code(typed) == code
    else:
        with pytest.raises(codes.CodeFormatError):
            codes.normalize_code(typed)


@hsettings(max_examples=300, deadline=None)
@given(
    code_strategy,
    st.lists(
        st.tuples(st.integers(0, 16), st.characters(categories=["Pd", "Cf", "Zs", "Zl", "Zp"])),
        max_size=20,
    ),
)
def test_normalize_code_ignores_every_dash_space_and_format_character(
    code: str, inserts: list[tuple[int, str]]
) -> None:
    typed = list(code)
    for position, char in sorted(inserts, reverse=True):
        typed.insert(position, char)
    assert codes.normalize_code("".join(typed)) == code


@pytest.mark.parametrize("name", sorted(PASTED_SEPARATORS))
def test_normalize_code_accepts_pasted_separators(name: str) -> None:
    char = PASTED_SEPARATORS[name]
    grouped = char.join(["K7QM", "3XTA", "9BDR", "W2HN"])
    between_every_character = char.join("K7QM3XTA9BDRW2HN")
    assert codes.normalize_code(f" {char}{grouped}{char} ") == "K7QM3XTA9BDRW2HN"
    assert codes.normalize_code(between_every_character) == "K7QM3XTA9BDRW2HN"


def test_normalize_code_accepts_full_width_characters() -> None:
    typed = "".join(full_width(c) if c != "-" else "\uff0d" for c in "K7QM-3XTA-9bdr-w2hn")
    assert codes.normalize_code(typed) == "K7QM3XTA9BDRW2HN"


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=100))
def test_normalize_code_any_text_is_a_code_or_a_format_error(raw: str) -> None:
    try:
        normalized = codes.normalize_code(raw)
    except codes.CodeFormatError:
        return
    assert len(normalized) == 16 and set(normalized) <= set(codes.ALPHABET)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "K7QM-3XTA-9BDR-W2H",
        "K7QM-3XTA-9BDR-W2HNX",
        "ÄÖÜ…" * 4,
        "' OR 1=1 --",
        "K7QM-3XTA-9BDR-W2HU",
        "K7QM 3XTA 9BDR W2HN" + " " * 46,
        "K" * 65,
        "K7QM\x003XTA9BDRW2HN",
        "K7QM\x073XTA9BDRW2HN",  # control characters are not invisible padding
        "K7QM\x7f3XTA9BDRW2HN",
        "\u041a7QM-3XTA-9BDR-W2HN",  # Cyrillic Ka, not K
        "K7QM_3XTA_9BDR_W2HN",
        "K7QM.3XTA.9BDR.W2HN",
        "K7QM-3XTA-9BDR-W2HN" + "\u200b" * 46,  # 65 characters: too long before cleaning
    ],
)
def test_normalize_code_refuses(raw: str) -> None:
    with pytest.raises(codes.CodeFormatError):
        codes.normalize_code(raw)


def test_normalize_code_maps_lookalikes() -> None:
    assert codes.normalize_code(" k7qm-3xta 9bdr-w2hn ") == "K7QM3XTA9BDRW2HN"
    assert codes.normalize_code("OOOO-IIII-LLLL-oil0") == "0000111111110110"
