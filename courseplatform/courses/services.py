"""Writes on courses: authoring, publishing, enrolment and progress.

Every function is keyword-only, takes the school first and the acting user
next, and asks ``accounts.permissions`` first: an object of another school is
``Http404``, one the actor may not manage ``PermissionDenied``. Refusals of
the request itself are ``ValidationError`` or ``CourseError`` (a message for the
person).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.accounts.services import (
    create_invited_student,
    delete_student_account,
    invitation_details,
    send_invitation,
)
from courseplatform.ops import files
from courseplatform.ops.events import emit_event
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.sanitize.markdown import external_image_problem, markdown_to_html
from courseplatform.tenancy.generation import bump_content_generation
from courseplatform.tenancy.models import School
from courseplatform.tenancy.slugs import unique_slug
from courseplatform.tenancy.usage import storage_used_bytes

from .models import (
    TITLE_MAX,
    Attachment,
    Course,
    CourseInstructor,
    Enrollment,
    Lesson,
    LessonProgress,
    Section,
)
from .selectors import count_courses, has_completed_course, is_enrolled


class CourseError(Exception):
    """A request that cannot be honoured; the message is safe to show."""


def course_event_ref(course: Course) -> dict[str, Any]:
    """How events (webhook payloads) name a course."""
    return {"id": course.pk, "slug": course.slug, "title": course.title}


def student_event_ref(student: User) -> dict[str, Any]:
    """How events (webhook payloads) name a student."""
    return {"id": student.pk, "email": student.email, "full_name": student.full_name}


def _clean_title(title: str, what: str = "title") -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({what: gettext("This field is required.")})
    if len(title) > TITLE_MAX:
        raise ValidationError(
            {what: gettext("Use at most %(count)d characters.") % {"count": TITLE_MAX}}
        )
    validate_single_line(title, field=what)
    return title


def _render_markdown(source: str, field: str) -> str:
    """Author Markdown as stored HTML. Images from other sites are refused with a message
    naming them rather than dropped silently (the renderer drops them regardless)."""
    problem = external_image_problem(source)
    if problem:
        raise ValidationError({field: problem})
    return markdown_to_html(source)


def _unique_slug(school: School, title: str, *, exclude_pk: int | None = None) -> str:
    return unique_slug(
        Course.objects.filter(school=school).exclude(pk=exclude_pk or 0), title, fallback="course"
    )


# --- courses ---------------------------------------------------------------------------


def create_course(
    *, school: School, actor: User, title: str, subtitle: str = "", description_md: str = ""
) -> Course:
    """Create a draft course, refusing when the plan's course limit is reached."""
    permissions.require_school_manager(school, actor)
    title = _clean_title(title)
    description_html = _render_markdown(description_md, "description_md")
    with transaction.atomic():
        # Serialise course creation per school so two requests cannot both pass the limit.
        # Only the school row is locked: the runtime role may read plans, not lock them.
        locked = (
            School.objects.select_for_update(of=("self",)).select_related("plan").get(pk=school.pk)
        )
        limit = locked.plan.max_courses
        if limit is not None and count_courses(school=school) >= limit:
            raise CourseError(
                gettext(
                    "Your %(plan)s plan includes up to %(limit)d courses. Delete a course "
                    "or upgrade to a bigger plan (Premium: 70 courses, Enterprise: unlimited) "
                    "to create more."
                )
                % {"plan": locked.plan.name, "limit": limit}
            )
        course = Course.objects.create(
            school=school,
            title=title,
            slug=_unique_slug(school, title),
            subtitle=subtitle.strip()[:300],
            description_md=description_md,
            description_html=description_html,
        )
        CourseInstructor.objects.create(school=school, course=course, user=actor)
        record_audit(school=school, actor=actor, action="course.created", target=course)
    return course


def update_course(
    *,
    school: School,
    actor: User,
    course: Course,
    title: str,
    subtitle: str,
    description_md: str,
    slug: str | None = None,
) -> Course:
    permissions.require_course_manager(school, actor, course)
    description_html = _render_markdown(description_md or "", "description_md")
    course.title = _clean_title(title)
    course.subtitle = (subtitle or "").strip()
    validate_single_line(course.subtitle, field="subtitle")
    if len(course.subtitle) > 300:
        raise ValidationError(
            {"subtitle": gettext("Use at most %(count)d characters.") % {"count": 300}}
        )
    course.description_md = description_md or ""
    course.description_html = description_html
    if slug is not None and slug != course.slug:
        wanted = slugify(slug)[:80]
        if not wanted:
            raise ValidationError({"slug": gettext("Use letters, digits and hyphens.")})
        if Course.objects.filter(school=school, slug=wanted).exclude(pk=course.pk).exists():
            raise ValidationError({"slug": gettext("Another course already uses this address.")})
        course.slug = wanted
    course.save()
    return course


def set_course_cover(*, school: School, actor: User, course: Course, upload: Any) -> Course:
    permissions.require_course_manager(school, actor, course)
    from django.conf import settings

    try:
        checked = files.check_image(upload, max_bytes=settings.MAX_IMAGE_BYTES)
    except files.UploadRejected as exc:
        raise ValidationError({"cover": str(exc)}) from exc
    old = course.cover_key
    course.cover_key = files.store_school_file(
        school=school, folder="covers", upload=upload, extension=checked.extension
    )
    course.save(update_fields=["cover_key", "updated_at"])
    if old:
        transaction.on_commit(lambda: files.delete_school_file(school=school, key=old))
    return course


def set_course_status(*, school: School, actor: User, course: Course, publish: bool) -> Course:
    permissions.require_course_manager(school, actor, course)
    if publish and not Lesson.objects.filter(course=course).exists():
        raise CourseError(gettext("Add at least one lesson before publishing."))
    was_published = course.status == Course.Status.PUBLISHED
    course.status = Course.Status.PUBLISHED if publish else Course.Status.DRAFT
    if publish and course.published_at is None:
        course.published_at = timezone.now()
    course.save(update_fields=["status", "published_at", "updated_at"])
    if publish and not was_published:
        emit_event(
            school=school,
            type="course.published",
            data={
                **course_event_ref(course),
                "published_at": course.published_at.isoformat() if course.published_at else None,
            },
        )
    record_audit(
        school=school,
        actor=actor,
        action="course.published" if publish else "course.unpublished",
        target=course,
    )
    return course


def delete_course(*, school: School, actor: User, course: Course) -> None:
    permissions.require_course_manager(school, actor, course)
    keys = [
        course.cover_key,
        *Attachment.objects.filter(lesson__course=course).values_list("storage_key", flat=True),
    ]
    with transaction.atomic():
        record_audit(
            school=school,
            actor=actor,
            action="course.deleted",
            target=course,
            data={"title": course.title},
        )
        course.delete()

        def cleanup() -> None:
            for key in keys:
                files.delete_school_file(school=school, key=key)

        transaction.on_commit(cleanup)


# --- outline ---------------------------------------------------------------------------


def add_section(*, school: School, actor: User, course: Course, title: str) -> Section:
    permissions.require_course_manager(school, actor, course)
    position = (course.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    return Section.objects.create(
        school=school, course=course, title=_clean_title(title), position=position
    )


def rename_section(*, school: School, actor: User, section: Section, title: str) -> Section:
    permissions.require_in_school(school, section)
    permissions.require_course_manager(school, actor, section.course)
    section.title = _clean_title(title)
    section.save(update_fields=["title"])
    return section


def delete_section(*, school: School, actor: User, section: Section) -> None:
    permissions.require_in_school(school, section)
    permissions.require_course_manager(school, actor, section.course)
    section.delete()


def add_lesson(
    *, school: School, actor: User, section: Section, title: str, kind: str = Lesson.Kind.TEXT
) -> Lesson:
    permissions.require_in_school(school, section)
    permissions.require_course_manager(school, actor, section.course)
    if kind not in Lesson.Kind.values:
        raise ValidationError({"kind": gettext("Choose video, text, file download or quiz.")})
    position = (section.lessons.aggregate(m=Max("position"))["m"] or 0) + 1
    return Lesson.objects.create(
        school=school,
        course_id=section.course_id,
        section=section,
        title=_clean_title(title),
        kind=kind,
        position=position,
    )


def update_lesson(
    *,
    school: School,
    actor: User,
    lesson: Lesson,
    title: str,
    kind: str,
    body_md: str,
    is_preview: bool,
    duration_minutes: int,
) -> Lesson:
    permissions.require_in_school(school, lesson)
    permissions.require_course_manager(school, actor, lesson.course)
    if kind not in Lesson.Kind.values:
        raise ValidationError({"kind": gettext("Choose video, text, file download or quiz.")})
    if not 0 <= duration_minutes <= 24 * 60:
        raise ValidationError(
            {"duration_minutes": gettext("Use a duration between 0 and 1440 minutes.")}
        )
    body_html = _render_markdown(body_md or "", "body_md")
    lesson.title = _clean_title(title)
    lesson.kind = kind
    lesson.body_md = body_md or ""
    lesson.body_html = body_html
    lesson.is_preview = is_preview
    lesson.duration_minutes = duration_minutes
    lesson.save()
    return lesson


def delete_lesson(*, school: School, actor: User, lesson: Lesson) -> None:
    permissions.require_in_school(school, lesson)
    permissions.require_course_manager(school, actor, lesson.course)
    keys = list(lesson.attachments.values_list("storage_key", flat=True))
    lesson.delete()
    transaction.on_commit(
        lambda: [files.delete_school_file(school=school, key=k) for k in keys]  # type: ignore[func-returns-value]
    )


def reorder_sections(
    *, school: School, actor: User, course: Course, section_ids: Sequence[int]
) -> None:
    """Put the course's sections in the given order; the ids must be exactly its sections."""
    permissions.require_course_manager(school, actor, course)
    current = set(Section.objects.filter(school=school, course=course).values_list("pk", flat=True))
    if len(section_ids) != len(set(section_ids)) or set(section_ids) != current:
        raise CourseError(
            gettext("The new order must list each section of this course exactly once.")
        )
    with transaction.atomic():
        for position, pk in enumerate(section_ids, start=1):
            Section.objects.filter(school=school, course=course, pk=pk).update(position=position)
        # update() sends no signals: the cached public pages learn of the order here.
        bump_content_generation(school.pk)


def reorder_lessons(
    *, school: School, actor: User, section: Section, lesson_ids: Sequence[int]
) -> None:
    """Make ``lesson_ids`` the lessons of ``section`` in that order.

    Lessons may come from other sections of the same course (drag between
    sections); ids of other courses or schools are refused and nothing changes.
    """
    permissions.require_in_school(school, section)
    permissions.require_course_manager(school, actor, section.course)
    if len(lesson_ids) != len(set(lesson_ids)):
        raise CourseError("A lesson appears twice in the new order.")
    found = set(
        Lesson.objects.filter(
            school=school, course_id=section.course_id, pk__in=lesson_ids
        ).values_list("pk", flat=True)
    )
    if found != set(lesson_ids):
        raise CourseError(
            gettext("The new order contains lessons that are not part of this course.")
        )
    remaining = set(section.lessons.values_list("pk", flat=True)) - found
    if remaining:
        raise CourseError(gettext("The new order must keep every lesson of the section."))
    with transaction.atomic():
        for position, pk in enumerate(lesson_ids, start=1):
            Lesson.objects.filter(school=school, pk=pk).update(section=section, position=position)
        bump_content_generation(school.pk)


def add_attachment(*, school: School, actor: User, lesson: Lesson, upload: Any) -> Attachment:
    permissions.require_in_school(school, lesson)
    permissions.require_course_manager(school, actor, lesson.course)
    try:
        checked = files.check_attachment(upload, max_bytes=files.max_attachment_bytes(school))
    except files.UploadRejected as exc:
        raise ValidationError({"file": str(exc)}) from exc
    quota = school.plan.max_storage_bytes
    if quota is not None and storage_used_bytes(school=school) + checked.size > quota:
        raise ValidationError(
            {
                "file": gettext(
                    "Not enough storage left on your %(plan)s plan for this file. Delete "
                    "videos or files you no longer need, or upgrade your plan."
                )
                % {"plan": school.plan.name}
            }
        )
    key = files.store_school_file(
        school=school, folder="attachments", upload=upload, extension=checked.extension
    )
    filename = (upload.name or f"file.{checked.extension}").replace("/", "_")[-255:]
    return Attachment.objects.create(
        school=school,
        lesson=lesson,
        storage_key=key,
        filename=filename,
        content_type=checked.content_type,
        size=checked.size,
    )


def delete_attachment(*, school: School, actor: User, attachment: Attachment) -> None:
    permissions.require_in_school(school, attachment)
    permissions.require_course_manager(school, actor, attachment.lesson.course)
    key = attachment.storage_key
    attachment.delete()
    transaction.on_commit(lambda: files.delete_school_file(school=school, key=key))


# --- enrolment and progress ------------------------------------------------------------


def enroll_student(
    *, school: School, actor: User | None, course: Course, student: User, source: str
) -> tuple[Enrollment, bool]:
    """Enrol ``student`` (idempotent). Returns the enrolment and whether it is new."""
    permissions.require_in_school(school, course, student)
    if source not in Enrollment.Source.values:
        raise ValueError(f"unknown enrolment source {source!r}")
    try:
        with transaction.atomic():
            enrollment, created = Enrollment.objects.get_or_create(
                school=school, student=student, course=course, defaults={"source": source}
            )
    except IntegrityError:  # a concurrent request enrolled the same student first
        return Enrollment.objects.get(school=school, student=student, course=course), False
    if created:
        record_audit(
            school=school,
            actor=actor or student,
            action="enrollment.created",
            target=enrollment,
            data={"course": course.pk, "source": source},
        )
        emit_event(
            school=school,
            type="enrollment.created",
            data={
                "id": enrollment.pk,
                "source": source,
                "created_at": enrollment.created_at.isoformat(),
                "course": course_event_ref(course),
                "student": student_event_ref(student),
            },
        )
    return enrollment, created


def enroll_by_email(
    *,
    school: School,
    actor: User,
    course: Course,
    email: str,
    full_name: str = "",
    port: str | None = None,
) -> tuple[Enrollment, bool]:
    """Enrol an existing student by email, or create the account and send an
    invitation to set a password. Returns (enrolment, account_created)."""
    permissions.require_course_manager(school, actor, course)
    address, name = invitation_details(email=email, full_name=full_name)
    with transaction.atomic():
        student = User.objects.filter(school=school, email=address).first()
        account_created = student is None
        if student is None:
            student = create_invited_student(school=school, actor=actor, address=address, name=name)
        enrollment, _ = enroll_student(
            school=school,
            actor=actor,
            course=course,
            student=student,
            source=Enrollment.Source.MANUAL,
        )
    if account_created:
        send_invitation(school=school, user=student, course_title=course.title, port=port)
    return enrollment, account_created


def invite_student(
    *, school: School, actor: User, email: str, full_name: str = "", port: str | None = None
) -> User:
    """Create a student account (owner or instructor) without enrolling it, and email an
    invitation to choose a password: ``enroll_by_email`` without a course. An address
    that already has an account here is refused (``code=duplicate``)."""
    permissions.require_school_manager(school, actor)
    address, name = invitation_details(email=email, full_name=full_name)
    with transaction.atomic():
        if User.objects.filter(school=school, email=address).exists():
            raise ValidationError(
                {
                    "email": ValidationError(
                        gettext("This address already has an account."), code="duplicate"
                    )
                }
            )
        student = create_invited_student(school=school, actor=actor, address=address, name=name)
    send_invitation(school=school, user=student, port=port)
    return student


def remove_student(*, school: School, actor: User, student: User) -> None:
    """Delete a student's account with its enrolments and progress (owner only), and
    announce each enrolment that ends with it (``enrollment.deleted``, as when a student
    is removed from one course)."""
    with transaction.atomic():
        ended = [
            _enrollment_deleted_data(enrollment)
            for enrollment in Enrollment.objects.filter(school=school, student=student)
            .select_related("course", "student")
            .order_by("pk")
        ]
        # Checks that the actor is the owner and ``student`` a student of this school;
        # a refusal rolls back before anything is announced.
        delete_student_account(school=school, actor=actor, student=student)
        for data in ended:
            emit_event(school=school, type="enrollment.deleted", data=data)


def _enrollment_deleted_data(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.pk,
        "course": course_event_ref(enrollment.course),
        "student": student_event_ref(enrollment.student),
    }


def remove_enrollment(*, school: School, actor: User, enrollment: Enrollment) -> None:
    permissions.require_in_school(school, enrollment)
    permissions.require_course_manager(school, actor, enrollment.course)
    with transaction.atomic():
        LessonProgress.objects.filter(
            school=school, student_id=enrollment.student_id, course_id=enrollment.course_id
        ).delete()
        record_audit(
            school=school,
            actor=actor,
            action="enrollment.removed",
            target=enrollment,
            data={"course": enrollment.course_id, "student": enrollment.student_id},
        )
        emit_event(
            school=school, type="enrollment.deleted", data=_enrollment_deleted_data(enrollment)
        )
        enrollment.delete()


def set_lesson_completed(
    *, school: School, student: User, lesson: Lesson, completed: bool = True
) -> LessonProgress:
    """Mark a lesson (in)complete for an enrolled student; others are refused."""
    permissions.require_in_school(school, lesson, student)
    if not is_enrolled(student=student, course_id=lesson.course_id):
        raise PermissionDenied(gettext("Enrol in this course to track your progress."))
    now = timezone.now()
    with transaction.atomic():
        progress, _ = LessonProgress.objects.get_or_create(
            school=school,
            student=student,
            lesson=lesson,
            defaults={"course_id": lesson.course_id},
        )
        newly_completed = completed and progress.completed_at is None
        progress.completed_at = (progress.completed_at or now) if completed else None
        progress.save(update_fields=["completed_at", "updated_at"])
        Enrollment.objects.filter(
            school=school, student=student, course_id=lesson.course_id
        ).update(last_activity_at=now, last_lesson=lesson)
        if newly_completed and has_completed_course(
            school=school, student=student, course_id=lesson.course_id
        ):
            # Certificates (above courses) subscribe; they issue at most once anyway.
            emit_event(
                school=school,
                type="course.completed",
                data={
                    "course": course_event_ref(lesson.course),
                    "student": student_event_ref(student),
                    "completed_at": now.isoformat(),
                },
            )
    return progress


def record_lesson_visit(
    *,
    school: School,
    student: User,
    lesson: Lesson,
    enrolled_before: datetime | None = None,
    record: bool = True,
) -> datetime | None:
    """Remember where an enrolled student is, for "continue where you left off".

    Returns when ``student`` enrolled in the lesson's course (None: not enrolled): the
    one statement both records the visit and answers that (the lesson page's only
    enrolment lookup; the drip schedule counts from the date). The visit is recorded
    only when ``record`` and the enrolment is older than ``enrolled_before`` (a drip
    section still locked for this student records nothing).
    """
    permissions.require_in_school(school, lesson)
    if not student.is_authenticated or student.school_id != school.pk:
        return None
    now = timezone.now()
    rows = Enrollment.objects.filter(school=school, student=student, course_id=lesson.course_id)
    if connection.vendor != "postgresql":  # the embedded default: two statements
        enrolled_at = rows.values_list("created_at", flat=True).first()
        if (
            enrolled_at is not None
            and record
            and (enrolled_before is None or enrolled_at < enrolled_before)
        ):
            rows.update(last_activity_at=now, last_lesson=lesson)
        return enrolled_at
    # One round trip: a data-modifying CTE runs whether or not the SELECT reads it.
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH e AS (SELECT id, created_at FROM courses_enrollment"
            " WHERE school_id = %s AND student_id = %s AND course_id = %s),"
            " u AS (UPDATE courses_enrollment AS t SET last_activity_at = %s,"
            " last_lesson_id = %s FROM e WHERE t.id = e.id AND %s"
            " AND (%s::timestamptz IS NULL OR e.created_at < %s::timestamptz) RETURNING t.id)"
            " SELECT created_at FROM e",
            [
                school.pk,
                student.pk,
                lesson.course_id,
                now,
                lesson.pk,
                record,
                enrolled_before,
                enrolled_before,
            ],
        )
        found = cursor.fetchone()
    return found[0] if found else None


def set_course_instructor(
    *, school: School, actor: User, course: Course, user: User, teaching: bool
) -> None:
    """Add or remove one of the school's instructors (or the owner) on a course.

    Only the owner assigns instructors; a course always keeps at least one.
    """
    permissions.require_in_school(school, course, user)
    permissions.require_school_owner(
        school, actor, message=gettext("Only the school owner assigns instructors.")
    )
    if teaching and user.role not in {User.Role.OWNER, User.Role.INSTRUCTOR}:
        raise CourseError(gettext("Make this person an instructor on the People page first."))
    with transaction.atomic():
        if teaching:
            _, created = CourseInstructor.objects.get_or_create(
                school=school, course=course, user=user
            )
            if not created:
                return
        else:
            links = CourseInstructor.objects.filter(school=school, course=course)
            if not links.filter(user=user).exists():
                return
            if links.count() == 1:
                raise CourseError("A course needs at least one instructor.")
            links.filter(user=user).delete()
        record_audit(
            school=school,
            actor=actor,
            action="course.instructor_added" if teaching else "course.instructor_removed",
            target=course,
            data={"user": user.pk},
        )
