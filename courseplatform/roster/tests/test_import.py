"""Bulk import end to end below the browser: preview (per-row checks, nothing
changes), apply in batches (one failing row never stops the rest), idempotent re-run,
the plan's student limit, the report CSV, audit entries, permissions and two schools."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from courseplatform.accounts.models import User
from courseplatform.courses.models import Enrollment
from courseplatform.courses.tests.test_student_views import client_as, new_user, text
from courseplatform.notices.tests.conftest import BOUNCING
from courseplatform.ops.models import AuditLog
from courseplatform.roster import selectors, services, tasks
from courseplatform.roster.models import StudentImport, StudentImportRow
from courseplatform.roster.tests.conftest import World, apply_all, make_import
from courseplatform.roster.tests.files import csv_bytes, upload
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

HEADER = ["name", "email", "courses"]


def _mixed(world: World) -> list[list[str]]:
    return [
        HEADER,
        ["Cara New", "cara@alpha.test", "drawing; shading"],  # 2 invite + 2 enrolments
        ["Ann Existing", "ANN@alpha.test", "drawing"],  # 3 already enrolled: no-op
        ["Bob Existing", "bob@alpha.test", "drawing shading"],  # 4 enrol existing
        ["Broken", "not-an-email", "drawing"],  # 5 bad email
        ["Cara Again", "cara@alpha.test", ""],  # 6 duplicate of row 2
        ["Dan", "dan@alpha.test", "no-such-course"],  # 7 unknown slug
        ["Eve", "eve@alpha.test", world.other_course.slug],  # 8 school B's slug: unknown
        ['=HYPERLINK("http://x")', "fay@alpha.test", ""],  # 9 formula: flagged, invited
    ]


def _counts(world: World) -> tuple[int, int, int]:
    with school_context(world.school):
        return (
            User.objects.filter(school=world.school).count(),
            Enrollment.objects.filter(school=world.school).count(),
            StudentImport.objects.filter(school=world.school).count(),
        )


def _rows(world: World, student_import: StudentImport) -> dict[int, StudentImportRow]:
    with school_context(world.school):
        return {row.line: row for row in student_import.rows.all()}


def _codes(row: StudentImportRow) -> list[str]:
    return [issue["code"] for issue in row.issues]


def test_preview_shows_each_rows_validity_and_changes_nothing(
    world: World, mailoutbox: list[Any]
) -> None:
    users, enrolments, _ = _counts(world)
    imp = make_import(world.school, world.owner, _mixed(world))
    rows = _rows(world, imp)
    assert {line: row.action for line, row in rows.items()} == {
        2: "invite",
        3: "unchanged",
        4: "enroll",
        5: "invalid",
        6: "invalid",
        7: "invalid",
        8: "invalid",
        9: "invite",
    }
    assert _codes(rows[5]) == ["bad_email"]
    assert _codes(rows[6]) == ["duplicate"] and "row 2" in rows[6].issues[0]["message"]
    assert _codes(rows[7]) == ["unknown_course"]
    assert _codes(rows[8]) == ["unknown_course"]  # another school's course is unknown here
    assert _codes(rows[9]) == ["formula"] and rows[9].name.startswith("=HYPERLINK")
    assert (imp.total_rows, imp.invite_rows, imp.enroll_rows) == (8, 2, 1)
    assert (imp.unchanged_rows, imp.invalid_rows, imp.warning_rows) == (1, 4, 1)
    assert imp.status == "preview"
    # Nothing about people changed; no email went out.
    assert _counts(world)[:2] == (users, enrolments)
    assert mailoutbox == []
    with school_context(world.school):
        assert AuditLog.objects.filter(action="roster.import_uploaded").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("s.csv", b"", "The submitted file is empty."),
        ("s.csv", b"  \r\n", "The file is empty."),
        ("s.csv", b"name,phone\r\nAnn,1\r\n", "Unknown column"),
        ("s.csv", b"Ann,ann@alpha.test\r\n", "not a header"),
        ("s.csv", "name,email\r\nZoë,z@alpha.test\r\n".encode("cp1252"), "not UTF-8 text"),
        ("s.csv", b"name,email\r\n=1+1,=cmd|' /C calc'!A0\r\n\x00", "NUL bytes"),
        ("s.xlsx", b"name,email\r\nAnn,ann@alpha.test\r\n", "not an Excel workbook"),
        ("s.txt", b"name,email\r\nAnn,ann@alpha.test\r\n", ".csv or .xlsx"),
    ],
)
def test_malformed_uploads_get_400_with_the_reason_and_change_nothing(
    world: World, mailoutbox: list[Any], name: str, data: bytes, message: str
) -> None:
    before = _counts(world)
    response = client_as(world.owner, world.school).post(
        "/manage/students/import/", {"file": upload(name, data)}
    )
    assert response.status_code == 400
    assert message.replace("'", "&#x27;") in text(response)
    assert _counts(world) == before
    assert mailoutbox == []


def test_ten_megabytes_of_junk_and_an_xlsx_bomb_are_refused(world: World, settings: Any) -> None:
    from courseplatform.roster.tests.files import xlsx_bomb

    before = _counts(world)
    client = client_as(world.owner, world.school)
    junk = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    response = client.post("/manage/students/import/", {"file": upload("junk.csv", junk)})
    assert response.status_code == 400
    assert "larger than the limit of 5.0 MB" in text(response)
    settings.ROSTER_IMPORT_MAX_BYTES = 20 * 1024 * 1024  # junk under the cap: still refused
    response = client.post("/manage/students/import/", {"file": upload("junk.csv", junk)})
    assert response.status_code == 400 and "not UTF-8 text" in text(response)
    response = client.post("/manage/students/import/", {"file": upload("b.xlsx", xlsx_bomb())})
    assert response.status_code == 400 and "zip bomb" in text(response)
    assert _counts(world) == before


def test_upload_cap_stops_reading_and_the_service_checks_again(world: World, settings: Any) -> None:
    settings.ROSTER_IMPORT_MAX_BYTES = 2048
    body = csv_bytes([HEADER] + [[f"S{i}", f"s{i}@alpha.test", ""] for i in range(200)])
    client = client_as(world.owner, world.school)
    response = client.post("/manage/students/import/", {"file": upload("big.csv", body)})
    assert response.status_code == 400 and "larger than the limit of" in text(response)
    # CSRF still applies to the upload form.
    strict = client_as(world.owner, world.school)
    strict.handler.enforce_csrf_checks = True
    small = csv_bytes([HEADER, ["A", "a@alpha.test", ""]])
    assert (
        strict.post("/manage/students/import/", {"file": upload("s.csv", small)}).status_code == 403
    )
    # Below the web layer, the service refuses an oversized file on its own.
    with school_context(world.school), pytest.raises(ValidationError, match="the limit is"):
        services.create_import(school=world.school, actor=world.owner, upload=upload("b.csv", body))
    assert _counts(world)[2] == 0


def test_row_cap_from_settings(world: World, settings: Any) -> None:
    settings.ROSTER_IMPORT_MAX_ROWS = 3
    rows = [HEADER] + [[f"S{i}", f"s{i}@alpha.test", ""] for i in range(4)]
    response = client_as(world.owner, world.school).post(
        "/manage/students/import/", {"file": upload("s.csv", csv_bytes(rows))}
    )
    assert response.status_code == 400 and "more than 3 students" in text(response)


def test_xlsx_upload_previews_like_csv(world: World) -> None:
    from courseplatform.roster.tests.files import xlsx_bytes

    data = xlsx_bytes([["Name", "Email", "Courses"], ["Gus", "gus@alpha.test", "drawing"]])
    with school_context(world.school):
        imp = services.create_import(
            school=world.school, actor=world.owner, upload=upload("list.xlsx", data)
        )
    assert (imp.file_format, imp.invite_rows) == ("xlsx", 1)


def test_apply_invites_and_enrols_then_the_same_file_again_changes_nothing(
    world: World, mailoutbox: list[Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ROSTER_IMPORT_BATCH_SIZE = 2
    users, enrolments, _ = _counts(world)
    imp = make_import(world.school, world.owner, _mixed(world))
    with django_capture_on_commit_callbacks() as callbacks, school_context(world.school):
        services.apply_import(school=world.school, actor=world.owner, student_import=imp)
    assert len(callbacks) == 1  # the first batch is enqueued once the rows committed
    outcomes = [
        tasks.run_import_batch(school_id=world.school.pk, import_id=imp.pk) for _ in range(2)
    ]
    assert outcomes == [
        {"done": 2, "failed": 0, "waiting": 1},
        {"done": 1, "failed": 0, "waiting": 0},
    ]
    with school_context(world.school):
        imp.refresh_from_db()
        cara = User.objects.get(school=world.school, email="cara@alpha.test")
        fay = User.objects.get(school=world.school, email="fay@alpha.test")
        assert fay.full_name == '=HYPERLINK("http://x")'  # text, as written
        assert set(
            Enrollment.objects.filter(student=cara).values_list("course__slug", flat=True)
        ) == {"drawing", "shading"}
        assert Enrollment.objects.filter(student=world.bob).count() == 2
        assert not User.objects.filter(email__in=["dan@alpha.test", "eve@alpha.test"]).exists()
        assert not Enrollment.objects.filter(school=world.other_school).exists()
        actions = list(AuditLog.objects.values_list("action", flat=True))
    assert imp.status == "done" and imp.finished_at is not None
    assert _counts(world)[:2] == (users + 2, enrolments + 4)
    assert sorted(m.to[0] for m in mailoutbox) == ["cara@alpha.test", "fay@alpha.test"]
    assert "You have been invited" in mailoutbox[0].subject
    for action in ("roster.import_applied", "roster.import_finished", "account.invited"):
        assert action in actions
    assert actions.count("roster.import_finished") == 1
    with school_context(world.school):
        done = selectors.progress(school=world.school, student_import=imp)
    assert (done.total, done.done, done.percent) == (3, 3, 100)

    # Applying the same import again is refused and changes nothing.
    with pytest.raises(services.RosterError), school_context(world.school):
        services.apply_import(school=world.school, actor=world.owner, student_import=imp)

    # The same file uploaded again: every row is a no-op or a problem; applying it
    # creates nobody, enrols nobody and emails nobody.
    mailoutbox.clear()
    after = _counts(world)[:2]
    again = make_import(world.school, world.owner, _mixed(world))
    assert (again.invite_rows, again.enroll_rows) == (0, 0)
    assert again.unchanged_rows == 4
    assert apply_all(world.school, world.owner, again) == [{"done": 0, "failed": 0, "waiting": 0}]
    with school_context(world.school):
        again.refresh_from_db()
    assert again.status == "done"
    assert _counts(world)[:2] == after
    assert mailoutbox == []


def test_one_failing_row_never_stops_the_rest(
    world: World, mailoutbox: list[Any], refusing_mail: None, settings: Any
) -> None:
    settings.ROSTER_IMPORT_BATCH_SIZE = 2
    rows = [
        HEADER,
        ["Ok One", "one@alpha.test", "drawing"],
        ["Bounce", f"bounce{BOUNCING}", "drawing"],
        ["Gone", "gone@alpha.test", "shading"],
        ["Ok Two", "two@alpha.test", ""],
    ]
    imp = make_import(world.school, world.owner, rows)
    assert imp.invite_rows == 4
    with school_context(world.school):  # a course deleted between preview and apply
        from courseplatform.courses import services as course_services

        course_services.delete_course(school=world.school, actor=world.owner, course=world.shading)
    apply_all(world.school, world.owner, imp)
    by_line = _rows(world, imp)
    assert {line: row.status for line, row in by_line.items()} == {
        2: "done",
        3: "failed",
        4: "failed",
        5: "done",
    }
    assert "invitation email failed" in by_line[3].result
    assert "no longer exists" in by_line[4].result
    with school_context(world.school):
        assert not User.objects.filter(email="gone@alpha.test").exists()  # rolled back
        assert User.objects.filter(email=f"bounce{BOUNCING}").exists()
    assert sorted(m.to[0] for m in mailoutbox) == ["one@alpha.test", "two@alpha.test"]
    with school_context(world.school):
        progress = selectors.progress(school=world.school, student_import=imp)
    assert (progress.done, progress.failed, progress.waiting) == (2, 2, 0)


def test_plan_student_limit_previewed_and_enforced(
    world: World, plan_limits: Any, mailoutbox: list[Any]
) -> None:
    with school_context(world.school):
        students = User.objects.filter(school=world.school, role="student").count()
    plan_limits(world.school.plan, max_students=students + 2)
    rows = [HEADER] + [[f"N{i}", f"n{i}@alpha.test", "drawing"] for i in range(4)]
    rows.append(["Bob Existing", "bob@alpha.test", "shading"])  # existing: no place needed
    imp = make_import(world.school, world.owner, rows)
    by_line = _rows(world, imp)
    assert [by_line[line].action for line in range(2, 7)] == [
        "invite",
        "invite",
        "invalid",
        "invalid",
        "enroll",
    ]
    assert _codes(by_line[4]) == ["over_limit"]
    assert imp.over_limit_rows == 2 and imp.student_limit == students + 2
    page = client_as(world.owner, world.school).get(f"/manage/students/import/{imp.pk}/")
    assert "2 rows would cross your plan" in text(page)

    # The limit shrinks between preview and apply: the worker checks it again.
    plan_limits(world.school.plan, max_students=students + 1)
    apply_all(world.school, world.owner, imp)
    by_line = _rows(world, imp)
    assert [by_line[line].status for line in range(2, 7)] == [
        "done",
        "failed",
        "skipped",
        "skipped",
        "done",
    ]
    assert "limit" in by_line[3].result
    with school_context(world.school):
        assert User.objects.filter(school=world.school, role="student").count() == students + 1
    assert [m.to[0] for m in mailoutbox] == ["n0@alpha.test"]


def test_pages_preview_paginated_progress_polls_and_report_is_formula_safe(
    world: World, settings: Any
) -> None:
    settings.ROSTER_IMPORT_BATCH_SIZE = 100
    rows = [HEADER, ["@SUM(1+1)", "-x@alpha.test", "drawing"]]
    rows += [[f"Student {i}", f"s{i}@alpha.test", ""] for i in range(60)]
    client = client_as(world.owner, world.school)
    people = client.get("/manage/students/")
    assert 'href="/manage/students/import/"' in text(people)
    response = client.post("/manage/students/import/", {"file": upload("s.csv", csv_bytes(rows))})
    assert response.status_code == 302
    url = response["Location"]
    page = text(client.get(url))
    assert page.count("data-row=") == selectors.ROWS_PER_PAGE
    assert "data-next-page" in page and "Apply 61 rows" in page
    second = text(client.get(url + "?show=all&page=2"))
    assert second.count("data-row=") == 11
    problems = text(client.get(url + "?show=problems"))
    assert problems.count("data-row=") == 0
    flagged = text(client.get(url))
    assert 'data-issue="formula"' in flagged

    assert client.post(url + "apply/").status_code == 302
    progress = text(client.get(url + "progress/"))
    assert 'hx-trigger="every 2s"' in progress and 'data-import-status="applying"' in progress
    tasks.run_import_batch(school_id=world.school.pk, import_id=int(url.rstrip("/").split("/")[-1]))
    done = text(client.get(url + "progress/"))
    assert "hx-trigger" not in done and "data-finished" in done and "data-report" in done

    report = client.get(url + "report.csv")
    assert report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == [
        "row",
        "name",
        "email",
        "courses",
        "planned",
        "problems",
        "status",
        "result",
    ]
    assert lines[1][:3] == ["2", "'@SUM(1+1)", "'-x@alpha.test"]
    assert lines[1][6] == "Done"
    assert len(lines) == 62


def test_discard_drops_the_preview_and_changes_nothing(world: World) -> None:
    imp = make_import(world.school, world.owner, _mixed(world))
    client = client_as(world.owner, world.school)
    assert client.post(f"/manage/students/import/{imp.pk}/discard/").status_code == 302
    assert client.get(f"/manage/students/import/{imp.pk}/").status_code == 404
    with school_context(world.school):
        assert not StudentImportRow.objects.filter(student_import_id=imp.pk).exists()
        assert AuditLog.objects.filter(action="roster.import_discarded").count() == 1


def test_instructor_imports_only_into_courses_they_teach(world: World) -> None:
    from courseplatform.courses import services as course_services

    teacher = new_user(world.school, "tia@alpha.test", name="Tia Teacher", role="instructor")
    with school_context(world.school):
        course_services.set_course_instructor(
            school=world.school,
            actor=world.owner,
            course=world.drawing,
            user=teacher,
            teaching=True,
        )
    rows = [HEADER, ["Hal", "hal@alpha.test", "drawing"], ["Ivy", "ivy@alpha.test", "shading"]]
    imp = make_import(world.school, teacher, rows)
    by_line = _rows(world, imp)
    assert by_line[2].action == "invite"
    assert _codes(by_line[3]) == ["unknown_course"]
    assert "do not teach" in by_line[3].issues[0]["message"]
    # Another manager's import: visible, not appliable by the instructor.
    owners = make_import(world.school, world.owner, rows)
    client = client_as(teacher, world.school)
    assert client.get(f"/manage/students/import/{owners.pk}/").status_code == 200
    assert client.post(f"/manage/students/import/{owners.pk}/apply/").status_code == 403
    with pytest.raises(PermissionDenied), school_context(world.school):
        services.apply_import(school=world.school, actor=teacher, student_import=owners)
    # Students and visitors never reach the pages.
    assert client_as(world.ann, world.school).get("/manage/students/import/").status_code == 403
    assert client_as(None, world.school).get("/manage/students/import/").status_code == 302


def test_school_b_cannot_see_apply_discard_or_download_school_a_imports(
    world: World, mailoutbox: list[Any]
) -> None:
    imp = make_import(world.school, world.owner, _mixed(world))
    owner_b = client_as(world.other_owner, world.other_school)
    base = f"/manage/students/import/{imp.pk}/"
    for path in (base, base + "progress/", base + "report.csv"):
        assert owner_b.get(path).status_code == 404
    for path in (base + "apply/", base + "discard/"):
        assert owner_b.post(path).status_code == 404
    assert "students.csv" not in text(owner_b.get("/manage/students/import/"))
    # On B's own host, A's owner is not a manager at all.
    assert client_as(world.owner, world.other_school).get(base).status_code in (302, 403, 404)
    with school_context(world.other_school):
        with pytest.raises(Http404):
            selectors.get_import(school=world.other_school, import_id=imp.pk)
        # Row-level security: B's context sees none of A's rows even unfiltered.
        assert not StudentImport.objects.filter(pk=imp.pk).exists()
        assert not StudentImportRow.objects.filter(student_import_id=imp.pk).exists()
    # A task naming B with A's import id does nothing.
    assert tasks.run_import_batch(school_id=world.other_school.pk, import_id=imp.pk) == {
        "done": 0,
        "failed": 0,
        "waiting": 0,
    }
    with school_context(world.school):
        imp.refresh_from_db()
        assert imp.status == "preview"
        assert not User.objects.filter(email="cara@alpha.test").exists()
    assert mailoutbox == []


def test_school_b_import_of_school_a_addresses_touches_only_school_b(world: World) -> None:
    rows = [HEADER, ["Ann Elsewhere", "ann@alpha.test", world.other_course.slug]]
    imp = make_import(world.other_school, world.other_owner, rows)
    assert imp.invite_rows == 1  # ann has an account in A, not in B
    apply_all(world.other_school, world.other_owner, imp)
    with school_context(world.school):
        assert User.objects.get(email="ann@alpha.test").full_name == "Ann Existing"
        assert Enrollment.objects.filter(student=world.ann).count() == 1
    with school_context(world.other_school):
        assert Enrollment.objects.filter(course=world.other_course).count() == 1
