from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def fresh_storage(settings: Any, tmp_path: Path) -> Path:
    """An empty local media storage for this test (school ids restart with every test
    database, so files left in the shared media folder by earlier runs would show up)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"
