"""A course as a manifest (``export_course_manifest``) and as archive files
(``write_course_archive``).

``plan_course_archive`` reads the course once and returns the manifest (a plain dict,
the JSON of ``manifest.Manifest``) plus the stored files that go with it; paths in the
archive are derived from positions and refs, never from ids, so exporting an imported
course gives the same manifest. The whole-school export writes each course with
``write_course_archive(..., prefix="courses/<slug>/")`` into its own zip.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from courseplatform.certificates.models import CertificateSettings
from courseplatform.courses.models import Attachment, Course, Lesson, Section
from courseplatform.ops import crypto
from courseplatform.quizzes.models import Option, Question, Quiz
from courseplatform.tenancy.models import School
from courseplatform.video.models import Rendition, VideoAsset

from . import manifest as schema
from .storagefiles import copy_to, extension_of, list_files

# progress(bytes written so far, bytes to write in all)
Progress = Callable[[int, int], None]


@dataclass
class ArchiveFile:
    path: str  # inside the archive, relative to its prefix
    key: str  # in default storage
    size: int


@dataclass
class ArchivePlan:
    manifest: dict[str, Any]
    files: list[ArchiveFile] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def _named_file(
    plan: ArchivePlan, path: str, key: str, *, filename: str, content_type: str
) -> dict[str, Any]:
    size = int(default_storage.size(key))
    plan.files.append(ArchiveFile(path, key, size))
    return {"path": path, "size": size, "filename": filename, "content_type": content_type}


def _cover(plan: ArchivePlan, course: Course) -> dict[str, Any] | None:
    if not course.cover_key or not default_storage.exists(course.cover_key):
        return None
    ext = extension_of(course.cover_key)
    content_type = {
        "jpg": "image/jpeg",
        "png": "image/png",
        "webp": "image/webp",
        "gif": "image/gif",
    }
    return _named_file(
        plan,
        f"files/cover.{ext}",
        course.cover_key,
        filename=f"cover.{ext}",
        content_type=content_type.get(ext, "application/octet-stream"),
    )


def _quiz(
    quiz: Quiz | None, questions: list[Question], options: dict[int, list[Option]]
) -> dict[str, Any] | None:
    if quiz is None:
        return None
    return {
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts,
        "shuffle_questions": quiz.shuffle_questions,
        "shuffle_options": quiz.shuffle_options,
        "reveal": quiz.reveal,
        "questions": [
            {
                "kind": q.kind,
                "prompt_md": q.prompt_md,
                "explanation_md": q.explanation_md,
                "accepted_answers": list(q.accepted_answers or []),
                "case_sensitive": q.case_sensitive,
                "options": [
                    {"text": o.text, "is_correct": o.is_correct} for o in options.get(q.pk, [])
                ],
            }
            for q in questions
        ],
    }


def _video(
    plan: ArchivePlan,
    asset: VideoAsset,
    ref: str,
    renditions: list[Rendition],
    *,
    include_sources: bool,
    include_renditions: bool,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ref": ref,
        "title": asset.title,
        "original_filename": asset.original_filename,
        "duration_seconds": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
        "frame_rate": asset.frame_rate,
        "has_audio": asset.has_audio,
        "source": None,
        "hls": None,
    }
    if include_sources and asset.source_key and default_storage.exists(asset.source_key):
        size = int(default_storage.size(asset.source_key))
        path = f"videos/{ref}/source.{extension_of(asset.source_key, fallback='mp4')}"
        plan.files.append(ArchiveFile(path, asset.source_key, size))
        entry["source"] = {"path": path, "size": size}
    ready = asset.status == VideoAsset.Status.READY and asset.hls_prefix and renditions
    if include_renditions and ready and asset.encryption_key_ciphertext:
        root = f"videos/{ref}/hls"
        stored = list_files(asset.hls_prefix)
        if stored:
            for rel, size in stored:
                plan.files.append(ArchiveFile(f"{root}/{rel}", f"{asset.hls_prefix}{rel}", size))
            poster: dict[str, Any] | None = None
            if asset.poster_key and default_storage.exists(asset.poster_key):
                poster_path = f"videos/{ref}/poster.jpg"
                poster_size = int(default_storage.size(asset.poster_key))
                poster = {"path": poster_path, "size": poster_size}
                plan.files.append(ArchiveFile(poster_path, asset.poster_key, poster_size))
            entry["hls"] = {
                "root": root,
                "files": [{"path": rel, "size": size} for rel, size in stored],
                "key": crypto.decrypt(asset.encryption_key_ciphertext).hex(),
                "renditions": [
                    {
                        "name": r.name,
                        "width": r.width,
                        "height": r.height,
                        "bandwidth": r.bandwidth,
                        "average_bandwidth": r.average_bandwidth,
                        "codecs": r.codecs,
                        "frame_rate": r.frame_rate,
                        "segment_count": r.segment_count,
                    }
                    for r in sorted(renditions, key=lambda r: (-r.height, r.name))
                ],
                "poster": poster,
            }
    return entry


def plan_course_archive(
    *,
    school: School,
    course: Course,
    include_sources: bool = False,
    include_renditions: bool = False,
) -> ArchivePlan:
    """The manifest of ``course`` and the stored files its archive holds. Call inside
    the school's context; reads a fixed number of queries whatever the course's size."""
    if course.school_id != school.pk:
        raise ValueError("course of another school")
    plan = ArchivePlan(manifest={})
    sections = list(Section.objects.filter(school=school, course=course).order_by("position", "id"))
    lessons = list(Lesson.objects.filter(school=school, course=course).order_by("position", "id"))
    attachments: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(school=school, lesson__course=course).order_by(
        "created_at", "id"
    ):
        attachments.setdefault(attachment.lesson_id, []).append(attachment)
    quizzes = {q.lesson_id: q for q in Quiz.objects.filter(school=school, course=course)}
    questions: dict[int, list[Question]] = {}
    for question in Question.objects.filter(school=school, quiz__course=course).order_by(
        "position", "id"
    ):
        questions.setdefault(question.quiz_id, []).append(question)
    options: dict[int, list[Option]] = {}
    for option in Option.objects.filter(school=school, question__quiz__course=course).order_by(
        "position", "id"
    ):
        options.setdefault(option.question_id, []).append(option)
    video_ids = [lesson.video_id for lesson in lessons if lesson.video_id]
    assets = VideoAsset.objects.filter(school=school).in_bulk(video_ids)
    renditions: dict[int, list[Rendition]] = {}
    for rendition in Rendition.objects.filter(school=school, asset_id__in=video_ids):
        renditions.setdefault(rendition.asset_id, []).append(rendition)

    refs: dict[int, str] = {}
    videos: list[dict[str, Any]] = []
    by_section: dict[int, list[Lesson]] = {}
    for lesson in lessons:
        by_section.setdefault(lesson.section_id, []).append(lesson)
    section_entries: list[dict[str, Any]] = []
    attachment_number = 0
    for section in sections:
        lesson_entries: list[dict[str, Any]] = []
        for lesson in by_section.get(section.pk, []):
            ref = None
            asset = assets.get(lesson.video_id) if lesson.video_id else None
            if asset is not None:
                if asset.pk not in refs:
                    refs[asset.pk] = f"v{len(refs) + 1}"
                    videos.append(
                        _video(
                            plan,
                            asset,
                            refs[asset.pk],
                            renditions.get(asset.pk, []),
                            include_sources=include_sources,
                            include_renditions=include_renditions,
                        )
                    )
                ref = refs[asset.pk]
            files: list[dict[str, Any]] = []
            for attachment in attachments.get(lesson.pk, []):
                attachment_number += 1
                ext = extension_of(attachment.storage_key)
                files.append(
                    _named_file(
                        plan,
                        f"files/attachments/{attachment_number:04d}.{ext}",
                        attachment.storage_key,
                        filename=attachment.filename,
                        content_type=attachment.content_type,
                    )
                )
            quiz = quizzes.get(lesson.pk)
            lesson_entries.append(
                {
                    "title": lesson.title,
                    "kind": lesson.kind,
                    "body_md": lesson.body_md,
                    "is_preview": lesson.is_preview,
                    "duration_minutes": lesson.duration_minutes,
                    "video": ref,
                    "attachments": files,
                    "quiz": _quiz(quiz, questions.get(quiz.pk, []) if quiz else [], options),
                }
            )
        section_entries.append(
            {
                "title": section.title,
                "release": section.release,
                "release_days": section.release_days,
                "release_date": section.release_date.isoformat() if section.release_date else None,
                "lessons": lesson_entries,
            }
        )
    plan.manifest = {
        "format": schema.FORMAT,
        "version": schema.VERSION,
        "source": {
            "school": school.slug,
            "course_id": course.pk,
            "exported_at": timezone.now().isoformat(timespec="seconds"),
        },
        "course": {
            "title": course.title,
            "slug": course.slug,
            "subtitle": course.subtitle,
            "description_md": course.description_md,
            "cover": _cover(plan, course),
        },
        "sections": section_entries,
        "videos": videos,
        "certificate": _certificate(plan, school, course),
    }
    return plan


def _certificate(plan: ArchivePlan, school: School, course: Course) -> dict[str, Any] | None:
    settings_row = CertificateSettings.objects.filter(school=school, course=course).first()
    if settings_row is None:
        return None
    signature = None
    if settings_row.signature_key and default_storage.exists(settings_row.signature_key):
        ext = extension_of(settings_row.signature_key, fallback="png")
        signature = _named_file(
            plan,
            f"files/certificate-signature.{ext}",
            settings_row.signature_key,
            filename=f"signature.{ext}",
            content_type="image/jpeg" if ext == "jpg" else f"image/{ext}",
        )
    return {
        "enabled": settings_row.enabled,
        "title": settings_row.title,
        "signer_name": settings_row.signer_name,
        "signer_title": settings_row.signer_title,
        "paper_size": settings_row.paper_size,
        "signature": signature,
    }


def export_course_manifest(
    *,
    school: School,
    course: Course,
    include_sources: bool = False,
    include_renditions: bool = False,
) -> dict[str, Any]:
    """The course's ``manifest.json`` as a dict (no files written)."""
    return plan_course_archive(
        school=school,
        course=course,
        include_sources=include_sources,
        include_renditions=include_renditions,
    ).manifest


def write_course_archive(
    *,
    school: School,
    course: Course,
    zf: zipfile.ZipFile,
    prefix: str = "",
    include_sources: bool = False,
    include_renditions: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write ``<prefix>manifest.json`` and every file of the course into the open zip
    ``zf``; return the manifest. Files are stored as they are (media is compressed
    already, and no entry can then look like a zip bomb); the manifest is deflated."""
    plan = plan_course_archive(
        school=school,
        course=course,
        include_sources=include_sources,
        include_renditions=include_renditions,
    )
    total, done = plan.total_bytes, 0
    if progress:
        progress(0, total)
    for item in plan.files:
        info = zipfile.ZipInfo(prefix + item.path, date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o100644 << 16
        with zf.open(info, "w", force_zip64=item.size > 2**31 - 1) as out:
            copy_to(item.key, out)
        done += item.size
        if progress:
            progress(done, total)
    body = json.dumps(plan.manifest, indent=2, ensure_ascii=False).encode()
    info = zipfile.ZipInfo(prefix + schema.MANIFEST_NAME, date_time=(2000, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o100644 << 16
    zf.writestr(info, body)
    return plan.manifest
