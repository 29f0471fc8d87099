"""Signed playback end to end: playlists, key, segments (local, CDN, S3), access rules,
the player partial, position saving and auto-complete.

A real encrypted two-rung HLS ladder is made once by ffmpeg (``playback_support``)
and copied into storage per test. Every access rule is checked against two schools.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings

from courseplatform.courses import services as course_services
from courseplatform.courses.models import Lesson, LessonProgress
from courseplatform.tenancy.rls import school_context
from courseplatform.video import playback, signing
from courseplatform.video.models import VideoAsset
from courseplatform.video.views_playback import IMMUTABLE, NO_STORE
from tests.fixtures.schools import host_of

from .playback_support import (
    HlsOutput,
    World,
    cloudflare_is_timed_hmac_valid_v0,
    decrypt,
    make_student,
    remove_asset_files,
    store_ready_asset,
    video_course,
)

pytestmark = pytest.mark.django_db

PLAYLIST = "application/vnd.apple.mpegurl"
_URL_LINE = re.compile(r"^(?!#)(\S+)$", re.M)
_URI = re.compile(r'URI="([^"]+)"')


def master_url(lesson: Lesson) -> str:
    return f"/video/lessons/{lesson.pk}/master.m3u8"


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def uris(playlist: str) -> list[str]:
    return _URL_LINE.findall(playlist)


def media_for(client: Client, lesson: Lesson, rendition: str = "360p") -> tuple[str, str]:
    """(media playlist URL, its text) as a player would find them."""
    master = client.get(master_url(lesson))
    assert master.status_code == 200, master.content
    url = next(u for u in uris(master.content.decode()) if f"/{rendition}/" in u)
    media = client.get(url)
    assert media.status_code == 200, media.content
    return url, media.content.decode()


def key_url(media: str) -> str:
    line = next(line for line in media.splitlines() if line.startswith("#EXT-X-KEY"))
    match = _URI.search(line)
    assert match
    return match[1]


def init_url(media: str) -> str:
    line = next(line for line in media.splitlines() if line.startswith("#EXT-X-MAP"))
    match = _URI.search(line)
    assert match
    return match[1]


def stale(token_message: str) -> str:
    return signing.token(token_message, issued=int(time.time()) - signing.get_signer().ttl - 1)


# --- playlists ------------------------------------------------------------------------------


def test_master_playlist_points_each_rendition_at_a_signed_media_endpoint(world: World) -> None:
    response = world.client(world.student).get(master_url(world.locked))
    assert response.status_code == 200
    assert response["Content-Type"] == PLAYLIST
    assert response["Cache-Control"] == NO_STORE
    text = response.content.decode()
    assert text.startswith("#EXTM3U")
    assert text.count("#EXT-X-STREAM-INF:") == 2
    assert "RESOLUTION=640x360" in text and "RESOLUTION=426x240" in text
    assert 'CODECS="avc1.' in text and "AVERAGE-BANDWIDTH=" in text and "FRAME-RATE=" in text
    found = uris(text)
    assert [u.split("?")[0] for u in found] == [
        f"/video/lessons/{world.locked.pk}/360p/index.m3u8",
        f"/video/lessons/{world.locked.pk}/240p/index.m3u8",
    ]
    for url in found:
        path, _, query = url.partition("?")
        assert re.fullmatch(r"verify=\d{10}-[A-Za-z0-9_-]{43}", query)
        assert signing.verify(f"{path}|u{world.student.pk}", query.split("=", 1)[1])


def test_media_playlist_signs_init_segments_and_the_key(world: World, hls: HlsOutput) -> None:
    _url, media = media_for(world.client(world.student), world.locked)
    lines = media.splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-ENDLIST" in lines
    rung = next(r for r in hls.rungs if r.name == "360p")
    # every segment has its own key line (same signed key URL, its own IV)
    assert media.count("#EXT-X-KEY:") == len(rung.files) - 1
    for name in rung.files[1:]:
        assert f"IV=0x{hls.ivs[f'360p/{name}'].hex()}\n#EXTINF:" in media
    assert len(set(re.findall(r'#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)"', media))) == 1
    assert re.fullmatch(
        rf"/video/lessons/{world.locked.pk}/key\?verify=\d{{10}}-[A-Za-z0-9_-]{{43}}",
        key_url(media),
    )
    prefix = f"/video/s/{world.asset.hls_prefix}360p/"
    assert init_url(media).startswith(prefix + "init.mp4?verify=")
    segments = uris(media)
    assert [s.split("?")[0] for s in segments] == [prefix + name for name in rung.files[1:]]
    for url in [init_url(media), *segments]:
        path, _, query = url.partition("?")
        assert signing.verify(path, query.removeprefix("verify="))
    response = world.client(world.student).get(_url)
    assert response["Cache-Control"] == NO_STORE
    assert response["Content-Type"] == PLAYLIST


def test_the_whole_chain_decrypts_to_the_original_segments(world: World, hls: HlsOutput) -> None:
    client = world.client(world.student)
    for rendition in ("360p", "240p"):
        _url, media = media_for(client, world.locked, rendition)
        key = client.get(key_url(media))
        assert key.status_code == 200
        assert key["Content-Type"] == "application/octet-stream"
        assert key["Cache-Control"] == NO_STORE
        assert key.content == hls.key and len(key.content) == 16
        init = client.get(init_url(media))
        assert body_of(init) == hls.clear[f"{rendition}/init.mp4"]
        for url in uris(media):
            name = url.split("?")[0].rsplit("/", 1)[1]
            response = client.get(url)
            assert response.status_code == 200
            body = body_of(response)
            iv = hls.ivs[f"{rendition}/{name}"]
            assert decrypt(body, key.content, iv) == hls.clear[f"{rendition}/{name}"]


def test_media_playlist_and_key_need_a_valid_token_bound_to_the_viewer(world: World) -> None:
    client = world.client(world.student)
    url, media = media_for(client, world.locked)
    path = url.split("?")[0]
    kpath = key_url(media).split("?")[0]
    assert client.get(path).status_code == 403  # no token
    assert client.get(f"{path}?verify=garbage").status_code == 403
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 403
    expired = stale(playback.media_message(path, f"u{world.student.pk}"))
    assert client.get(f"{path}?verify={expired}").status_code == 403
    other_rendition = url.replace("/360p/", "/240p/")  # token of another path
    assert client.get(other_rendition).status_code == 403
    # A token minted for another viewer does not work for this one (and vice versa).
    owner = world.client(world.owner)
    assert owner.get(url).status_code == 403
    assert owner.get(key_url(media)).status_code == 403
    # Key: no token, tampered, expired, another asset's binding.
    assert client.get(kpath).status_code == 403
    assert client.get(key_url(media)[:-2] + "zz").status_code == 403
    expired_key = stale(playback.key_message(kpath, world.asset, f"u{world.student.pk}"))
    assert client.get(f"{kpath}?verify={expired_key}").status_code == 403
    foreign = signing.token(playback.key_message(kpath, world.other_asset, f"u{world.student.pk}"))
    assert client.get(f"{kpath}?verify={foreign}").status_code == 403
    assert client.get(key_url(media)).status_code == 200


def test_a_student_not_enrolled_gets_403_everywhere(world: World) -> None:
    client = world.client(world.outsider)
    viewer = f"u{world.outsider.pk}"
    lesson_id = world.locked.pk
    assert client.get(master_url(world.locked)).status_code == 403
    # Even with tokens minted for them, access is re-checked on every endpoint.
    media_path = f"/video/lessons/{lesson_id}/360p/index.m3u8"
    token = signing.token(playback.media_message(media_path, viewer))
    assert client.get(f"{media_path}?verify={token}").status_code == 403
    kpath = f"/video/lessons/{lesson_id}/key"
    ktoken = signing.token(playback.key_message(kpath, world.asset, viewer))
    response = client.get(f"{kpath}?verify={ktoken}")
    assert response.status_code == 403 and response.content != b"" and len(response.content) != 16
    # Segments: without a token from a playlist, storage serves nothing.
    segment = f"/video/s/{world.asset.hls_prefix}360p/seg_00001.m4s"
    assert client.get(segment).status_code == 403
    other = signing.sign_path(f"/video/s/{world.asset.hls_prefix}360p/seg_00002.m4s")
    assert client.get(segment + "?" + other.split("?")[1]).status_code == 403
    # Position: not enrolled.
    assert client.post(f"/video/lessons/{lesson_id}/position", {"position": 1}).status_code == 403
    # Anonymous visitors fare no better on the locked lesson.
    anonymous = world.client()
    assert anonymous.get(master_url(world.locked)).status_code == 403


def test_another_schools_lesson_or_segment_is_404(world: World) -> None:
    # Bravo's lesson id asked on alpha's host, by alpha's enrolled student and owner.
    for user in (world.student, world.owner):
        client = world.client(user)
        assert client.get(master_url(world.other_lesson)).status_code == 404
        assert client.get(f"/video/lessons/{world.other_lesson.pk}/key").status_code == 404
    # Bravo's owner on alpha's host is logged out by the middleware: anonymous → 403.
    bravo_owner_on_alpha = world.client(world.other_owner)
    assert bravo_owner_on_alpha.get(master_url(world.locked)).status_code == 403
    # A validly signed segment URL of school A does not work on school B's host.
    signed = signing.sign_path(f"/video/s/{world.asset.hls_prefix}360p/seg_00001.m4s")
    bravo = world.client(world.other_owner, host=host_of(world.other_school))
    assert bravo.get(signed).status_code == 404
    assert world.client().get(signed).status_code == 200  # on its own host it works


def test_preview_lesson_plays_anonymously(world: World, hls: HlsOutput) -> None:
    client = world.client()
    _url, media = media_for(client, world.preview)
    key = client.get(key_url(media))
    assert key.status_code == 200 and key.content == hls.key
    assert client.get(uris(media)[0]).status_code == 200
    # The anonymous token does not open the locked lesson's key.
    kpath = f"/video/lessons/{world.locked.pk}/key"
    token = signing.token(playback.key_message(kpath, world.asset, "anon"))
    assert client.get(f"{kpath}?verify={token}").status_code == 403


def test_drafts_and_lessons_without_a_ready_video_are_404(world: World) -> None:
    with school_context(world.school):
        course_services.set_course_status(
            school=world.school, actor=world.owner, course=world.course, publish=False
        )
    assert world.client(world.student).get(master_url(world.preview)).status_code == 404
    assert world.client().get(master_url(world.preview)).status_code == 404
    assert world.client(world.owner).get(master_url(world.preview)).status_code == 200
    with school_context(world.school):
        VideoAsset.objects.filter(pk=world.asset.pk).update(status=VideoAsset.Status.PROCESSING)
    assert world.client(world.owner).get(master_url(world.preview)).status_code == 404
    with school_context(world.school):
        Lesson.objects.filter(pk=world.preview.pk).update(video=None)
        VideoAsset.objects.filter(pk=world.asset.pk).update(status=VideoAsset.Status.READY)
    assert world.client(world.owner).get(master_url(world.preview)).status_code == 404
    assert world.client(world.owner).get("/video/lessons/999999999/master.m3u8").status_code == 404


def test_unknown_rendition_is_404(world: World) -> None:
    path = f"/video/lessons/{world.locked.pk}/1080p/index.m3u8"
    token = signing.token(playback.media_message(path, f"u{world.student.pk}"))
    assert world.client(world.student).get(f"{path}?verify={token}").status_code == 404


# --- local segment serving -------------------------------------------------------------------


def _signed(world: World, name: str) -> tuple[str, bytes]:
    key = f"{world.asset.hls_prefix}{name}"
    from django.core.files.storage import default_storage

    with default_storage.open(key, "rb") as fh:
        data = fh.read()
    return signing.sign_path(f"/video/s/{key}"), data


def test_segment_view_serves_ranges(world: World) -> None:
    url, data = _signed(world, "360p/seg_00001.m4s")
    size = len(data)
    client = world.client()
    full = client.get(url)
    assert full.status_code == 200
    assert full["Content-Length"] == str(size)
    assert full["Accept-Ranges"] == "bytes"
    assert body_of(full) == data
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes=10-{size + 1000}": (10, size - 1),
    }
    for header, (first, last) in cases.items():
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 206, header
        assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert response["Content-Length"] == str(last - first + 1)
        assert body_of(response) == data[first : last + 1]
        assert response["Cache-Control"] == IMMUTABLE
    unsatisfiable = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert unsatisfiable.status_code == 416
    assert unsatisfiable["Content-Range"] == f"bytes */{size}"
    # Several ranges or nonsense: the whole file (allowed by RFC 9110).
    assert client.get(url, HTTP_RANGE="bytes=0-1,5-6").status_code == 200
    assert client.get(url, HTTP_RANGE="items=0-1").status_code == 200
    head = client.head(url)
    assert head.status_code == 200 and head["Content-Length"] == str(size)


def test_segment_view_content_types_and_cache_headers(world: World) -> None:
    client = world.client()
    for name, content_type in (
        ("360p/seg_00001.m4s", "video/iso.segment"),
        ("360p/init.mp4", "video/mp4"),
    ):
        url, _data = _signed(world, name)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response["X-Content-Type-Options"] == "nosniff"
    poster = playback.poster_url(world.asset)
    assert poster.startswith(f"/video/s/{world.asset.storage_prefix}poster.jpg?verify=")
    response = client.get(poster)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    expired = client.get(
        f"/video/s/{world.asset.hls_prefix}360p/init.mp4?verify="
        + stale(f"/video/s/{world.asset.hls_prefix}360p/init.mp4")
    )
    assert expired.status_code == 403
    assert expired["Cache-Control"] == NO_STORE


@pytest.mark.parametrize(
    "key",
    [
        "{prefix}../../../../secret_key",
        "{prefix}360p/../../../../../etc/passwd",
        "schools/{school}/videos/../attachments/x.pdf",
        "schools/{school}/attachments/x.pdf",
        "schools/{school}/videos/x",
        "schools/{other}/videos/{uuid}/hls/360p/seg_00001.m4s",
        "/etc/passwd",
    ],
)
def test_segment_view_refuses_traversal_and_keys_outside_the_schools_videos(
    world: World, key: str
) -> None:
    key = key.format(
        prefix=world.asset.hls_prefix,
        school=world.school.pk,
        other=world.other_school.pk,
        uuid=world.other_asset.uuid,
    )
    signed = signing.sign_path(f"/video/s/{key}")  # even with a valid token
    response = world.client().get(signed)
    assert response.status_code == 404


def test_segment_view_refuses_encoded_traversal(world: World) -> None:
    key = f"{world.asset.hls_prefix}%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret_key"
    signed = signing.sign_path(f"/video/s/{key}")
    assert world.client().get(signed).status_code in (403, 404)


# --- CDN and S3 ------------------------------------------------------------------------------


def test_cdn_mode_points_segments_at_the_cdn_with_edge_verifiable_tokens(world: World) -> None:
    secret = "edge-secret-current"
    with override_settings(
        VIDEO_CDN_BASE_URL="https://cdn.example.test/media",
        VIDEO_SIGNING_SECRETS=[secret, "edge-secret-previous"],
        VIDEO_TOKEN_TTL_SECONDS=300,
    ):
        _url, media = media_for(world.client(world.student), world.locked)
        poster = playback.poster_url(world.asset)
    now = int(time.time())
    urls = [init_url(media), *uris(media), poster]
    assert len(urls) >= 3
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "cdn.example.test")
        assert parts.path.startswith(f"/media/{world.asset.storage_prefix}")
        request_uri = f"{parts.path}?{parts.query}"  # Cloudflare's http.request.uri
        assert cloudflare_is_timed_hmac_valid_v0(secret, request_uri, 300, now, 8, "s")
        assert not cloudflare_is_timed_hmac_valid_v0(secret, request_uri, 300, now + 301, 8, "s")
        assert not cloudflare_is_timed_hmac_valid_v0("wrong", request_uri, 300, now, 8, "s")
    # The key stays on the app (it is never handed to the CDN).
    assert key_url(media).startswith(f"/video/lessons/{world.locked.pk}/key?verify=")


def test_s3_mode_hands_out_presigned_urls_that_fetch_the_segments(
    school_a: Any, hls: HlsOutput, s3_default_storage: Any, s3_server: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        asset = store_ready_asset(school=school, owner=owner, hls=hls, storage=s3_default_storage)
    course = video_course(school, owner, asset)
    student = make_student(school, "s3student@alpha.test")
    with school_context(school):
        course_services.enroll_student(
            school=school, actor=owner, course=course, student=student, source="manual"
        )
        lesson = Lesson.objects.filter(course=course).order_by("position").last()
    assert lesson is not None
    client = Client(HTTP_HOST=host_of(school))
    with school_context(school):
        client.force_login(student)
    try:
        _url, media = media_for(client, lesson, "240p")
        key = client.get(key_url(media)).content
        assert key == hls.key
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for url in [init_url(media), *uris(media)]:
            assert url.startswith(s3_server.endpoint_url + "/"), url
            assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
            with opener.open(url, timeout=10) as response:
                body = response.read()
            name = urlsplit(url).path.rsplit("/", 1)[1]
            clear = hls.clear[f"240p/{name}"]
            if name != "init.mp4":
                body = decrypt(body, key, hls.ivs[f"240p/{name}"])
            assert body == clear
        # Storage refuses the same object without a signature.
        bare = urlsplit(uris(media)[0])
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(f"{bare.scheme}://{bare.netloc}{bare.path}", timeout=10)
        assert refused.value.code in (401, 403)
        poster = playback.poster_url(asset)
        with opener.open(poster, timeout=10) as response:
            assert response.read()[:3] == b"\xff\xd8\xff"
    finally:
        remove_asset_files(asset, s3_default_storage)


# --- the player and progress -----------------------------------------------------------------


def _render_player(world: World, user: Any, lesson: Lesson) -> str:
    request = RequestFactory().get("/", HTTP_HOST=host_of(world.school))
    request.user = user
    request.school = world.school  # type: ignore[attr-defined]
    with school_context(world.school):
        lesson = Lesson.objects.select_related("video").get(pk=lesson.pk)
        return render_to_string(
            "video/partials/player.html", {"lesson": lesson, "request": request}
        )


def test_player_partial_carries_urls_and_resume_position(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    with school_context(world.school):
        LessonProgress.objects.create(
            school=world.school, student=world.student, lesson=world.locked,
            course=world.course, last_position_seconds=2,
        )  # fmt: skip
    html = _render_player(world, world.student, world.locked)
    assert f'data-src="/video/lessons/{world.locked.pk}/master.m3u8"' in html
    assert f'data-position-url="/video/lessons/{world.locked.pk}/position"' in html
    assert f'data-report-url="/video/lessons/{world.locked.pk}/playback-failure"' in html
    assert 'data-resume="2"' in html
    assert f'poster="/video/s/{world.asset.storage_prefix}poster.jpg?verify=' in html
    assert "dist/hls.min.js" in html and "dist/player.js" in html
    assert "<script>" not in html and "onclick" not in html  # no inline script (CSP)
    assert "Resuming at 0:02" in html
    anonymous = _render_player(world, AnonymousUser(), world.preview)
    assert 'data-position-url=""' in anonymous and 'data-resume="0"' in anonymous
    assert f'data-report-url="/video/lessons/{world.preview.pk}/playback-failure"' in anonymous
    with school_context(world.school):
        Lesson.objects.filter(pk=world.preview.pk).update(video=None)
    assert _render_player(world, world.student, world.preview).strip() == ""


def test_position_is_saved_and_the_lesson_completes_at_ninety_percent(world: World) -> None:
    client = world.client(world.student)
    url = f"/video/lessons/{world.locked.pk}/position"
    response = client.post(url, {"position": "1.5"})
    assert response.status_code == 200
    assert response.json() == {"position": 1, "completed": False, "completed_now": False}
    assert response["Cache-Control"] == NO_STORE
    with school_context(world.school):
        progress = LessonProgress.objects.get(student=world.student, lesson=world.locked)
    assert progress.last_position_seconds == 1 and progress.completed_at is None
    # 3.5 s of a 4 s video is 87.5 %: not yet.
    assert client.post(url, {"position": "3.5"}).json()["completed"] is False
    # 3.6 s is 90 %.
    done = client.post(url, {"position": "3.6"}).json()
    assert done == {"position": 3, "completed": True, "completed_now": True}
    again = client.post(url, {"position": "3.9"}).json()
    assert again["completed"] is True and again["completed_now"] is False
    with school_context(world.school):
        progress.refresh_from_db()
        assert progress.completed_at is not None
        enrollment = world.student.enrollments.get(course=world.course)
        assert enrollment.last_lesson_id == world.locked.pk
    # Beyond the end is clamped to the duration.
    assert client.post(url, {"position": "99999"}).json()["position"] == 4
    # Going back does not un-complete the lesson.
    assert client.post(url, {"position": "0"}).json()["completed"] is True


def test_position_endpoint_refuses_others_and_bad_input(world: World) -> None:
    url = f"/video/lessons/{world.locked.pk}/position"
    assert world.client().post(url, {"position": 1}).status_code == 403
    assert world.client(world.owner).post(url, {"position": 1}).status_code == 403
    preview_url = f"/video/lessons/{world.preview.pk}/position"
    assert world.client(world.outsider).post(preview_url, {"position": 1}).status_code == 403
    student = world.client(world.student)
    for bad in ("", "abc", "-1", "nan", "inf"):
        assert student.post(url, {"position": bad}).status_code == 400, bad
    assert student.get(url).status_code == 405
    other = f"/video/lessons/{world.other_lesson.pk}/position"
    assert student.post(other, {"position": 1}).status_code == 404
    with school_context(world.school):
        assert not LessonProgress.objects.filter(lesson=world.locked).exists()


def test_position_endpoint_checks_csrf(world: World) -> None:
    client = world.client(world.student, enforce_csrf_checks=True)
    url = f"/video/lessons/{world.locked.pk}/position"
    assert client.post(url, {"position": 1}).status_code == 403
    client.get(f"/courses/{world.course.slug}/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"position": 1}, HTTP_X_CSRFTOKEN=token).status_code == 200
    assert client.post(url, {"position": 1, "csrfmiddlewaretoken": token}).status_code == 200


def test_save_position_service_is_scoped_to_the_school(world: World) -> None:
    with school_context(world.other_school), pytest.raises(PermissionDenied):
        playback.save_position(
            school=world.other_school, student=world.student, lesson=world.locked,
            position_seconds=1.0,
        )  # fmt: skip
    with school_context(world.school), pytest.raises(PermissionDenied):
        playback.save_position(
            school=world.school, student=world.outsider, lesson=world.locked, position_seconds=1.0
        )
    with school_context(world.school):
        saved = playback.save_position(
            school=world.school, student=world.student, lesson=world.locked, position_seconds=2.2
        )
    assert saved.progress.last_position_seconds == 2 and not saved.completed_now


# --- templates -------------------------------------------------------------------------------


def test_media_template_parsing_refuses_what_the_contract_does_not_allow() -> None:
    good = (
        '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0x00\n'
        "#EXTINF:6.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n"
    )
    template = playback.parse_media_template(good)
    assert template.names == ["init.mp4", "seg_00001.m4s"]
    filled = playback.fill(template, ["I", "S"], "K")
    assert filled == (
        '#EXTM3U\n#EXT-X-MAP:URI="I"\n#EXT-X-KEY:METHOD=AES-128,URI="K",IV=0x00\n'
        "#EXTINF:6.0,\nS\n#EXT-X-ENDLIST\n"
    )
    for bad in (
        good.replace("seg_00001.m4s", "../seg_00001.m4s"),
        good.replace("seg_00001.m4s", "https://evil.test/x.m4s"),
        good.replace('URI="key"', 'URI="https://evil.test/key"'),
        good.replace('URI="init.mp4"', 'URI="../../init.mp4"'),
        good.replace("#EXTM3U\n", ""),
    ):
        with pytest.raises(playback.PlaylistError):
            playback.parse_media_template(bad)
    with pytest.raises(playback.PlaylistError):
        playback.parse_master_template("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n../x/index.m3u8\n")


def test_segment_urls_in_a_directory_equal_urls_of_full_keys() -> None:
    segment_urls = playback.SegmentUrls(issued=1_767_225_600)
    directory = "schools/1/videos/odd dir/hls/360p/"
    names = ["init.mp4", "seg_00001.m4s"]
    assert segment_urls.urls_in(directory, names) == segment_urls.urls(
        [directory + name for name in names]
    )
    assert "odd%20dir" in segment_urls.urls_in(directory, names)[0]
