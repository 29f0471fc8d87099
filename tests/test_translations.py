"""The translation catalogs are complete and current (README "Languages").

* complete: every catalog of every language translates every msgid, plural forms
  included, and holds no fuzzy entry (a guess msgmerge made that nobody checked);
* current: ``scripts/messages.py update`` run on a copy of the tree finds no msgid the
  committed catalogs lack and none they hold that the code no longer uses;
* every catalog exists in every language.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
from django.conf import settings

from scripts.messages import LOCALES, catalogs

ROOT = Path(__file__).resolve().parent.parent
_COPIED = ("courseplatform", "templates", "locale", "frontend/src", "manage.py", "scripts")
_NOT_COPIED = shutil.ignore_patterns(
    "node_modules", "dist", "__pycache__", "*.mo", "tests", "static", ".mypy_cache"
)


def _key(entry: polib.POEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _plural_count(po: polib.POFile) -> int:
    found = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    return int(found.group(1)) if found else 2


def test_every_catalog_is_complete_and_checked() -> None:
    problems = []
    for path in catalogs(ROOT):
        po = polib.pofile(str(path))
        where = path.relative_to(ROOT)
        problems += [f"{where}: untranslated {e.msgid!r}" for e in po.untranslated_entries()]
        problems += [f"{where}: fuzzy {e.msgid!r}" for e in po.fuzzy_entries()]
        # makemessages gives a new plural entry two forms whatever the language has
        # (Spanish 3, Arabic 6): a missing form falls back to English at run time.
        forms = _plural_count(po)
        problems += [
            f"{where}: {e.msgid!r} has {len(e.msgstr_plural)} plural forms, the language {forms}"
            for e in po
            if e.msgid_plural and len(e.msgstr_plural) != forms
        ]
        if path.parent.parent.name == "ar" and any(e.msgid_plural for e in po):
            assert forms == 6, where
    assert not problems, "\n".join(problems[:200]) + f"\n({len(problems)} in all)"


def test_every_catalog_exists_in_every_language() -> None:
    found: dict[tuple[Path, str], set[str]] = {}
    for path in catalogs(ROOT):
        locale_dir, language = path.parents[2], path.parents[1].name
        found.setdefault((locale_dir, path.name), set()).add(language)
    missing = {
        f"{where.relative_to(ROOT)}/{name}": sorted(set(LOCALES) - languages)
        for (where, name), languages in found.items()
        if languages != set(LOCALES)
    }
    assert not missing, missing


def test_catalogs_hold_exactly_the_strings_the_code_marks(tmp_path: Path) -> None:
    assert shutil.which("xgettext"), "gettext is missing: run scripts/install-system-deps.sh"
    for name in _COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=_NOT_COPIED)
        elif source.exists():
            shutil.copy2(source, tmp_path / name)
    subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "messages.py"), "update"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=True,
        capture_output=True,
    )
    differences = []
    fresh = {path.relative_to(tmp_path) for path in catalogs(tmp_path)}
    committed = {path.relative_to(ROOT) for path in catalogs(ROOT)}
    differences += [f"{path}: missing, run `make messages`" for path in sorted(fresh - committed)]
    differences += [
        f"{path}: nothing marks these strings any more" for path in sorted(committed - fresh)
    ]
    for path in sorted(fresh & committed):
        wanted = {_key(e) for e in polib.pofile(str(tmp_path / path)) if not e.obsolete}
        held = {_key(e) for e in polib.pofile(str(ROOT / path)) if not e.obsolete}
        differences += [
            f"{path}: lacks {k[1]!r} (run `make messages`)" for k in sorted(wanted - held)
        ]
        differences += [
            f"{path}: stale {k[1]!r} (run `make messages`)" for k in sorted(held - wanted)
        ]
    assert not differences, "\n".join(differences[:200]) + f"\n({len(differences)} in all)"


def test_a_string_has_one_translation_per_language_across_catalogs() -> None:
    """Django merges every catalog of a language into one and the first in
    ``LOCALE_PATHS`` wins, so a second, different translation of the same msgid would
    never be shown: give the string a context (pgettext) when it must differ."""
    order = {Path(path).resolve(): index for index, path in enumerate(settings.LOCALE_PATHS)}
    chosen: dict[tuple[str, str, str, str], tuple[object, Path]] = {}
    conflicts = []
    for path in sorted(catalogs(ROOT), key=lambda p: order.get(p.parents[2].resolve(), 99)):
        if path.name != "django.po":
            continue
        language = path.parents[1].name
        for entry in polib.pofile(str(path)):
            key = (language, *_key(entry))
            value = dict(entry.msgstr_plural) if entry.msgid_plural else entry.msgstr
            first = chosen.setdefault(key, (value, path))
            if first[0] != value:
                conflicts.append(
                    f"{language} {entry.msgid!r}: {first[1].relative_to(ROOT)} says {first[0]!r},"
                    f" {path.relative_to(ROOT)} says {value!r}"
                )
    assert not conflicts, "\n".join(conflicts)
