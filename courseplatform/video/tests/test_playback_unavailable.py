"""Playback when stored files are missing or broken: a master rebuilt from the Rendition
rows, a corrupt master or media playlist answered 404 (logged, never a 500), a key
asked for an unencrypted video, and Range headers served whole when they make no sense."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from courseplatform.tenancy.rls import school_context
from courseplatform.video import playback
from courseplatform.video.models import Rendition, VideoAsset
from courseplatform.video.views_playback import _byte_range

from .playback_support import World
from .test_playback import key_url, master_url, media_for, uris

pytestmark = pytest.mark.django_db


def _replace(key: str, text: str) -> None:
    default_storage.delete(key)
    assert default_storage.save(key, ContentFile(text.encode())) == key


def test_missing_master_is_rebuilt_and_corrupt_playlists_are_404(world: World) -> None:
    client = world.client(world.student)
    media_url, media = media_for(client, world.locked)
    master_key = f"{playback.hls_prefix(world.asset)}master.m3u8"
    playback.templates.clear()

    default_storage.delete(master_key)
    rebuilt = client.get(master_url(world.locked))
    assert rebuilt.status_code == 200, rebuilt.content
    with school_context(world.school):
        names = sorted(Rendition.objects.filter(asset=world.asset).values_list("name", flat=True))
    assert sorted(u.split("/")[-2] for u in uris(rebuilt.content.decode())) == names

    _replace(master_key, "this is not a playlist\n")
    assert client.get(master_url(world.locked)).status_code == 404

    with school_context(world.school):
        playlist_key = Rendition.objects.get(asset=world.asset, name="360p").playlist_key
    _replace(playlist_key, "#EXTM3U\n#EXTINF:6.0,\n../../escape.m4s\n")
    assert client.get(media_url).status_code == 404

    # The key link stays valid, but a video without a key has nothing to hand out.
    assert client.get(key_url(media)).status_code == 200
    with school_context(world.school):
        VideoAsset.objects.filter(pk=world.asset.pk).update(encryption_key_ciphertext="")
    assert client.get(key_url(media)).status_code == 404
    playback.templates.clear()


@pytest.mark.parametrize("header", ["bytes=-", "bytes=9-3", "items=0-1", "bytes=0-1,4-5"])
def test_byte_range_serves_everything_for_ranges_that_make_no_sense(header: str) -> None:
    assert _byte_range(header, 10) is None


def test_byte_range_clamps_and_refuses_what_cannot_be_satisfied() -> None:
    assert _byte_range("bytes=-4", 10) == (6, 9)
    assert _byte_range("bytes=-40", 10) == (0, 9)
    assert _byte_range("bytes=2-", 10) == (2, 9)
    assert _byte_range("bytes=2-400", 10) == (2, 9)
    assert _byte_range("bytes=-0", 10) is False
    assert _byte_range("bytes=10-", 10) is False
