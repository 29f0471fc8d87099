"""Signed playback on a school's custom domain: the whole chain (master, media
playlist, key, segments) works there for the enrolled student, and nothing of it on
another school's custom domain."""

from __future__ import annotations

import pytest

from tests.fixtures.custom_domains import serving_domain

from .playback_support import World
from .test_playback import body_of, key_url, master_url, media_for, uris

pytestmark = [pytest.mark.django_db, pytest.mark.school_plan("premium")]

HOST = "learn.alpha-brand.test"
OTHER_HOST = "school.bravo-brand.test"


def test_playback_works_on_the_custom_domain(world: World) -> None:
    serving_domain(world.school, HOST)
    serving_domain(world.other_school, OTHER_HOST)
    client = world.client(world.student, host=HOST)
    url, media = media_for(client, world.locked)
    assert url.startswith("/video/")  # relative: stays on the host it was served on
    key = client.get(key_url(media))
    assert key.status_code == 200 and len(body_of(key)) == 16
    segment = client.get(uris(media)[0])
    assert segment.status_code == 200 and len(body_of(segment)) > 0
    # The same signed URLs on the other school's custom domain: nothing.
    other = world.client(None, host=OTHER_HOST)
    assert other.get(master_url(world.locked)).status_code in (302, 403, 404)
    assert other.get(key_url(media)).status_code in (403, 404)
    assert other.get(uris(media)[0]).status_code in (403, 404)
