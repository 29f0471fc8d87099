"""Translation catalogs: update them from the code, compile them, check them.

    python scripts/messages.py update    # makemessages: add new msgids, drop old ones
    python scripts/messages.py compile   # compilemessages: the .mo files (not committed)

Catalogs live beside the code they translate (``settings.LOCALE_PATHS``): one per app
(``courseplatform/<app>/locale``) and ``locale/`` for the project's templates and the
scripts in ``frontend/src/js`` (domain ``djangojs``). ``makemessages`` run from the
repository root files each string under the catalog whose directory holds the file.

``update`` leaves a catalog untouched when only its creation date would change, so a
run that finds nothing new changes no file. ``tests/test_translations.py`` runs
``update`` on a copy of the tree to see whether the committed catalogs are current.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Catalog directories by Django's locale name (pt-br is pt_BR); English is the source.
LOCALES = ("es", "de", "pt_BR", "ar")
# Never scanned: dependencies, built files, tests (their strings are not shown to users).
IGNORED = (
    ".venv",
    "node_modules",
    "frontend/node_modules",
    "courseplatform/static",
    "staticfiles",
    "var",
    "test-output",
    "tests",
    "*/tests",
    "*/tests/*",
    "bench",
    "deploy",
    "scripts",
    "build",
)
# The creation date changes on every run; it alone is not a change worth a diff.
_DATE_LINE = re.compile(rb'^"POT-Creation-Date: .*\\n"\n', re.M)
_FUZZY_HEADER = re.compile(rb'^#, fuzzy\nmsgid ""\n', re.M)


def _manage(root: Path, *args: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "courseplatform.settings"}
    subprocess.run([sys.executable, str(root / "manage.py"), *args], cwd=root, env=env, check=True)


def catalogs(root: Path = ROOT) -> list[Path]:
    return sorted(
        path
        for pattern in ("courseplatform/*/locale/*/LC_MESSAGES/*.po", "locale/*/LC_MESSAGES/*.po")
        for path in root.glob(pattern)
    )


def update(root: Path = ROOT) -> None:
    before = {path: path.read_bytes() for path in catalogs(root)}
    locales = [arg for code in LOCALES for arg in ("--locale", code)]
    ignores = [arg for pattern in IGNORED for arg in ("--ignore", pattern)]
    common = ["--no-location", "--no-obsolete", "--no-wrap", *locales, *ignores]
    _manage(root, "makemessages", "--domain", "django", "--extension", "html,txt,py", *common)
    # The project's scripts only: the app directories hold no JavaScript of ours, and
    # the built bundles under courseplatform/static are not source.
    js_ignores = [
        arg
        for pattern in ("courseplatform", "templates", "locale")
        for arg in ("--ignore", pattern)
    ]
    _manage(root, "makemessages", "--domain", "djangojs", "--extension", "js", *common, *js_ignores)
    for path in catalogs(root):
        _settle_header(path)
    for path, old in before.items():
        if path.exists() and _DATE_LINE.sub(b"", path.read_bytes()) == _DATE_LINE.sub(b"", old):
            path.write_bytes(old)


def _settle_header(path: Path) -> None:
    """makemessages marks a new catalog's header fuzzy and leaves its Language empty:
    the header is checked by this script, and the language is the directory's."""
    text = path.read_bytes()
    settled = _FUZZY_HEADER.sub(b'msgid ""\n', text, count=1)
    language = path.parents[1].name.encode()
    settled = settled.replace(b'"Language: \\n"', b'"Language: ' + language + b'\\n"', 1)
    if settled != text:
        path.write_bytes(settled)


def compile_catalogs(root: Path = ROOT) -> None:
    if not catalogs(root):
        return
    ignores = [arg for pattern in IGNORED for arg in ("--ignore", pattern)]
    _manage(root, "compilemessages", *ignores)


def main(argv: list[str]) -> int:
    commands = {"update": update, "compile": compile_catalogs}
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
