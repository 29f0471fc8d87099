"""Turn a checked archive into a new course of the importing school.

``check_plan_limits`` runs before anything is written (in the request and again in the
job): one more course, the bytes the archive's files will occupy, and the minutes of
the videos it brings must all fit the plan. ``import_course`` then works in two steps:

1. video files (sources, renditions, posters) are copied into storage under fresh
   asset prefixes, reporting progress by bytes;
2. one transaction creates the course through the apps' own services (so titles,
   Markdown, files and quiz questions are validated and sanitised exactly as in the
   editor): new ids everywhere, the slug de-duplicated, the course a draft.

If anything fails, the transaction rolls back and every file stored on the way is
removed: the school is as it was.
"""

from __future__ import annotations

import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.certificates import services as certificate_services
from courseplatform.courses import drip
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Course, Lesson
from courseplatform.courses.selectors import count_courses
from courseplatform.ops import files as school_files
from courseplatform.quizzes import services as quiz_services
from courseplatform.tenancy.models import School
from courseplatform.tenancy.slugs import unique_slug
from courseplatform.tenancy.usage import storage_used_bytes
from courseplatform.video import imports as video_imports
from courseplatform.video.models import VideoAsset
from courseplatform.video.selectors import remaining_video_minutes
from courseplatform.video.services import (
    attach_video_to_lesson,
    check_video_file_type,
    start_processing,
)
from courseplatform.video.storage import delete_storage_prefix

from . import manifest as schema
from .storagefiles import CHUNK, save_stream

Progress = Callable[[int, int], None]


class ImportRefused(ValueError):
    """The import cannot go ahead; the message is for the person who asked."""


def _mb(size: float) -> str:
    return f"{size / 1048576:.1f} MB"


def stored_bytes(manifest: schema.Manifest) -> int:
    """Bytes the import will add to the school's storage."""
    return sum(ref.size for ref in schema.manifest_files(manifest))


def playable_minutes(manifest: schema.Manifest) -> float:
    """Minutes of the videos the import makes playable (renditions or a source)."""
    return sum(
        (video.duration_seconds or 0) / 60
        for video in manifest.videos
        if video.hls is not None or video.source is not None
    )


def check_plan_limits(*, school: School, manifest: schema.Manifest) -> None:
    """``ImportRefused`` when the archive does not fit the school's plan."""
    plan = school.plan
    problems: list[str] = []
    if plan.max_courses is not None and count_courses(school=school) + 1 > plan.max_courses:
        problems.append(
            f"Your {plan.name} plan includes up to {plan.max_courses} courses and all are "
            "used: delete a course or upgrade to import this one."
        )
    needed = stored_bytes(manifest)
    if plan.max_storage_bytes is not None:
        free = max(0, plan.max_storage_bytes - storage_used_bytes(school=school))
        if needed > free:
            problems.append(
                f"The course's files need {_mb(needed)} of storage; your {plan.name} plan has "
                f"{_mb(free)} free. Export without video files, or free some space."
            )
    remaining = remaining_video_minutes(school=school)
    minutes = playable_minutes(manifest)
    if remaining is not None and minutes > remaining:
        problems.append(
            f"The course's videos last {minutes:.0f} minutes; your {plan.name} plan has "
            f"{max(0.0, remaining):.0f} minutes of video left."
        )
    for video in manifest.videos:
        if video.source is not None:
            try:
                check_video_file_type(video.source.path)
            except ValidationError as exc:
                problems.append(f"Video “{video.title}”: {' '.join(exc.messages)}")
    if problems:
        raise ImportRefused(" ".join(problems))


@dataclass
class _Run:
    school: School
    actor: User
    zf: zipfile.ZipFile
    manifest: schema.Manifest
    progress: Progress
    spool: IO[bytes]
    total: int = 0
    done: int = 0
    prefixes: list[str] = field(default_factory=list)  # video prefixes stored in step 1
    keys: list[str] = field(default_factory=list)  # files the services stored in step 2
    notes: list[str] = field(default_factory=list)
    assets: dict[str, VideoAsset] = field(default_factory=dict)  # by manifest ref

    def tick(self, size: int) -> None:
        self.done += size
        self.progress(self.done, self.total)

    def store(self, path: str, key: str) -> str:
        with self.zf.open(path) as source:
            saved = save_stream(key, source, self.spool)
        self.tick(self.zf.getinfo(path).file_size)
        return saved

    def upload(self, path: str, name: str) -> File:
        """A zip entry as an uploaded file for a service that validates uploads."""
        self.spool.seek(0)
        self.spool.truncate()
        with self.zf.open(path) as source:
            while chunk := source.read(CHUNK):
                self.spool.write(chunk)
        self.spool.seek(0)
        upload = File(self.spool, name=name)
        self.tick(self.zf.getinfo(path).file_size)
        return upload


def _store_video(run: _Run, video: schema.Video) -> video_imports.ImportedVideo:
    asset_uuid = uuid.uuid4()
    prefix = video_imports.storage_prefix_for(run.school, asset_uuid)
    run.prefixes.append(prefix)
    source_key, source_bytes = "", 0
    if video.source is not None:
        ext = video.source.path.rsplit(".", 1)[-1]
        source_key = run.store(video.source.path, f"{prefix}source/source.{ext}")
        source_bytes = video.source.size
    key, poster_key, output = b"", "", 0
    renditions: tuple[video_imports.ImportedRendition, ...] = ()
    if video.hls is not None:
        root = video.hls.root.rstrip("/")
        per_rung: dict[str, int] = {}
        for item in video.hls.files:
            run.store(f"{root}/{item.path}", f"{prefix}hls/{item.path}")
            output += item.size
            rung = item.path.split("/", 1)[0]
            per_rung[rung] = per_rung.get(rung, 0) + item.size
        if video.hls.poster is not None:
            poster_key = run.store(video.hls.poster.path, f"{prefix}poster.jpg")
            output += video.hls.poster.size
        key = bytes.fromhex(video.hls.key)
        renditions = tuple(
            video_imports.ImportedRendition(
                name=r.name,
                width=r.width,
                height=r.height,
                bandwidth=r.bandwidth,
                average_bandwidth=r.average_bandwidth,
                codecs=r.codecs,
                frame_rate=r.frame_rate,
                segment_count=r.segment_count,
                bytes=per_rung.get(r.name, 0),
            )
            for r in video.hls.renditions
        )
    return video_imports.ImportedVideo(
        uuid=asset_uuid,
        title=video.title,
        original_filename=video.original_filename,
        duration_seconds=video.duration_seconds,
        width=video.width,
        height=video.height,
        frame_rate=video.frame_rate,
        has_audio=video.has_audio,
        source_key=source_key,
        source_bytes=source_bytes,
        key=key,
        poster_key=poster_key,
        output_bytes=output,
        renditions=renditions,
    )


def _create_course(run: _Run, stored_videos: dict[str, video_imports.ImportedVideo]) -> Course:
    school, actor, manifest = run.school, run.actor, run.manifest
    data = manifest.course
    course = course_services.create_course(
        school=school,
        actor=actor,
        title=data.title,
        subtitle=data.subtitle,
        description_md=data.description_md,
    )
    slug = unique_slug(
        Course.objects.filter(school=school).exclude(pk=course.pk),
        data.slug or data.title,
        fallback="course",
    )
    course_services.update_course(
        school=school,
        actor=actor,
        course=course,
        title=data.title,
        subtitle=data.subtitle,
        description_md=data.description_md,
        slug=slug,
    )
    if data.cover is not None:
        upload = run.upload(data.cover.path, data.cover.filename)
        course_services.set_course_cover(school=school, actor=actor, course=course, upload=upload)
        run.keys.append(course.cover_key)
    run.assets = {
        ref: video_imports.create_imported_asset(school=school, actor=actor, video=video)
        for ref, video in stored_videos.items()
    }
    for section_data in manifest.sections:
        section = course_services.add_section(
            school=school, actor=actor, course=course, title=section_data.title
        )
        if section_data.release != "immediately":
            drip.set_section_release(
                school=school,
                actor=actor,
                section=section,
                release=section_data.release,
                days=section_data.release_days,
                on_date=date.fromisoformat(section_data.release_date)
                if section_data.release_date
                else None,
            )
        for lesson_data in section_data.lessons:
            _create_lesson(run, section, lesson_data)
    _certificate(run, course)
    return course


def _create_lesson(run: _Run, section: Any, data: schema.Lesson) -> Lesson:
    school, actor = run.school, run.actor
    lesson = course_services.add_lesson(
        school=school, actor=actor, section=section, title=data.title, kind=data.kind
    )
    if data.video is not None:
        attach_video_to_lesson(
            school=school, actor=actor, lesson=lesson, asset=run.assets[data.video]
        )
    course_services.update_lesson(
        school=school,
        actor=actor,
        lesson=lesson,
        title=data.title,
        kind=data.kind,
        body_md=data.body_md,
        is_preview=data.is_preview,
        duration_minutes=data.duration_minutes,
    )
    for attachment in data.attachments:
        upload = run.upload(attachment.path, attachment.filename)
        created = course_services.add_attachment(
            school=school, actor=actor, lesson=lesson, upload=upload
        )
        run.keys.append(created.storage_key)
    if data.quiz is not None:
        quiz = data.quiz
        quiz_services.update_quiz_settings(
            school=school,
            actor=actor,
            lesson=lesson,
            pass_mark=quiz.pass_mark,
            max_attempts=quiz.max_attempts,
            shuffle_questions=quiz.shuffle_questions,
            shuffle_options=quiz.shuffle_options,
            reveal=quiz.reveal,
        )
        for question in quiz.questions:
            quiz_services.save_question(
                school=school,
                actor=actor,
                lesson=lesson,
                kind=question.kind,
                prompt_md=question.prompt_md,
                explanation_md=question.explanation_md,
                options=[
                    quiz_services.OptionInput(text=o.text, is_correct=o.is_correct)
                    for o in question.options
                ],
                accepted_answers=question.accepted_answers,
                case_sensitive=question.case_sensitive,
            )
    return lesson


def _certificate(run: _Run, course: Course) -> None:
    data = run.manifest.certificate
    if data is None:
        return
    if not permissions.is_school_owner(run.actor, run.school):
        run.notes.append(
            "The certificate settings were not imported: only the school owner manages "
            "certificates."
        )
        return
    certificate_services.update_settings(
        school=run.school,
        actor=run.actor,
        course=course,
        enabled=data.enabled,
        title=data.title,
        signer_name=data.signer_name,
        signer_title=data.signer_title,
        paper_size=data.paper_size,
    )
    if data.signature is not None:
        upload = run.upload(data.signature.path, data.signature.filename)
        row = certificate_services.set_signature_image(
            school=run.school, actor=run.actor, course=course, upload=upload
        )
        run.keys.append(row.signature_key)


def _cleanup(run: _Run) -> None:
    for prefix in run.prefixes:
        delete_storage_prefix(prefix)
    for key in run.keys:
        school_files.delete_school_file(school=run.school, key=key)


def import_course(
    *,
    school: School,
    actor: User,
    zf: zipfile.ZipFile,
    manifest: schema.Manifest,
    progress: Progress | None = None,
) -> tuple[Course, list[str]]:
    """Create the course the archive holds; returns it and notes for the person.
    Call inside the school's context, outside any transaction (progress is written as
    it goes). Raises ``ImportRefused`` (or a service's ``ValidationError``) with
    nothing changed."""
    permissions.require_school_manager(school, actor)
    check_plan_limits(school=school, manifest=manifest)
    with tempfile.TemporaryFile(dir=settings.VIDEO_WORK_DIR or None) as spool:
        run = _Run(school, actor, zf, manifest, progress or (lambda done, total: None), spool)
        run.total = stored_bytes(manifest)
        run.progress(0, run.total)
        try:
            stored = {video.ref: _store_video(run, video) for video in manifest.videos}
            with transaction.atomic():
                course = _create_course(run, stored)
        except BaseException:
            _cleanup(run)
            raise
    for video in manifest.videos:
        if video.hls is None and video.source is not None:
            _transcode(run, run.assets[video.ref])
    missing = [v.title or v.original_filename for v in manifest.videos if not (v.hls or v.source)]
    if missing:
        run.notes.append(
            f"{len(missing)} video(s) were not in the archive and must be uploaded again: "
            + ", ".join(f"“{title}”" for title in missing[:10])
            + "."
        )
    return course, run.notes


def _transcode(run: _Run, asset: VideoAsset) -> None:
    try:
        start_processing(school=run.school, asset=asset)
    except ValidationError as exc:
        run.notes.append(f"Video “{asset.title}” was not processed: {' '.join(exc.messages)}")
