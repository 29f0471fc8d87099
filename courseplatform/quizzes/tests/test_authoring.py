"""Quiz authoring in the lesson editor: settings (audited), questions of each type
added, edited, moved (htmx and plain) and deleted, and every refusal: no correct
option, pass mark outside 0 to 100, huge option lists, forged option ids."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from courseplatform.courses.models import Lesson
from courseplatform.ops.models import AuditLog
from courseplatform.quizzes import services
from courseplatform.quizzes.models import Option, Question, Quiz
from courseplatform.quizzes.services import MAX_OPTIONS, OptionInput, QuizError
from courseplatform.tenancy.rls import school_context

from .support import Built, build_quiz, client_as, student

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(school_a: Any) -> Built:
    return build_quiz(school_a.school, school_a.owner)


@pytest.fixture
def owner_client(built: Built) -> Client:
    return client_as(built.owner)


def _snapshot(built: Built) -> list[Any]:
    with school_context(built.school):
        return [
            list(Quiz.objects.order_by("pk").values()),
            list(Question.objects.order_by("pk").values()),
            list(Option.objects.order_by("pk").values()),
        ]


def _settings(**overrides: Any) -> dict[str, Any]:
    return {"pass_mark": "80", "max_attempts": "3", "reveal": "passing", **overrides}


def test_editor_shows_the_quiz_panel(owner_client: Client, built: Built) -> None:
    page = owner_client.get(f"/manage/courses/lessons/{built.lesson.pk}/").content.decode()
    assert 'id="quiz"' in page and "Save quiz settings" in page
    assert page.count('id="question-') >= 4
    assert "✓ Pacific" in page
    # A text lesson's editor has no quiz panel.
    page = owner_client.get(f"/manage/courses/lessons/{built.text_lesson.pk}/").content.decode()
    assert "Save quiz settings" not in page


def test_settings_are_saved_and_audited(owner_client: Client, built: Built) -> None:
    url = f"/manage/courses/quizzes/lessons/{built.lesson.pk}/settings/"
    response = owner_client.post(url, _settings(shuffle_questions="on"))
    assert response.status_code == 302 and response["Location"].endswith("#quiz-settings")
    with school_context(built.school):
        quiz = Quiz.objects.get(pk=built.quiz.pk)
        entry = AuditLog.objects.get(action="quiz.settings_changed")
    assert (quiz.pass_mark, quiz.max_attempts, quiz.shuffle_questions) == (80, 3, True)
    assert quiz.reveal == "passing"
    assert entry.actor_id == built.owner.pk and entry.target_id == str(quiz.pk)
    assert entry.data["changes"]["pass_mark"] == [70, 80]
    # Unlimited attempts: an empty field. Saving the same settings writes no entry.
    owner_client.post(url, _settings(max_attempts="", shuffle_questions="on"))
    owner_client.post(url, _settings(max_attempts="", shuffle_questions="on"))
    with school_context(built.school):
        assert Quiz.objects.get(pk=built.quiz.pk).max_attempts is None
        assert AuditLog.objects.filter(action="quiz.settings_changed").count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_settings(pass_mark="101"), "less than or equal to 100"),
        (_settings(pass_mark="-1"), "greater than or equal to 0"),
        (_settings(pass_mark="abc"), "Enter a whole number"),
        (_settings(max_attempts="0"), "greater than or equal to 1"),
        (_settings(reveal="always"), "Select a valid choice"),
    ],
)
def test_bad_settings_are_refused(
    owner_client: Client, built: Built, data: dict[str, Any], message: str
) -> None:
    before = _snapshot(built)
    response = owner_client.post(
        f"/manage/courses/quizzes/lessons/{built.lesson.pk}/settings/", data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot(built) == before


def test_service_refuses_pass_marks_outside_0_to_100(built: Built) -> None:
    before = _snapshot(built)
    with school_context(built.school):
        for mark in (-5, 101, 1000):
            with pytest.raises(ValidationError, match="between 0 and 100"):
                services.update_quiz_settings(
                    school=built.school,
                    actor=built.owner,
                    lesson=built.lesson,
                    pass_mark=mark,
                    max_attempts=None,
                    shuffle_questions=False,
                    shuffle_options=False,
                    reveal="submission",
                )
        with pytest.raises(ValidationError, match="between 1 and 1000"):
            services.update_quiz_settings(
                school=built.school,
                actor=built.owner,
                lesson=built.lesson,
                pass_mark=50,
                max_attempts=0,
                shuffle_questions=False,
                shuffle_options=False,
                reveal="submission",
            )
    assert _snapshot(built) == before


def _rows(*rows: tuple[str, bool]) -> dict[str, str]:
    data = {"option-count": str(len(rows))}
    for i, (text, correct) in enumerate(rows):
        data[f"option-{i}-text"] = text
        if correct:
            data[f"option-{i}-correct"] = "on"
    return data


def test_add_each_kind_of_question(owner_client: Client, built: Built) -> None:
    base = f"/manage/courses/quizzes/lessons/{built.lesson.pk}/questions/new/"
    page = owner_client.get(f"{base}?kind=multiple").content.decode()
    assert "Tick every correct option." in page
    posts = {
        "single": {"prompt_md": "2 + 2?", **_rows(("3", False), ("4", True), ("", False))},
        "multiple": {"prompt_md": "Even?", **_rows(("2", True), ("3", False), ("4", True))},
        "true_false": {"prompt_md": "Water is wet.", "true_false": "true"},
        "text": {"prompt_md": "H2O is?", "accepted_answers": "water\n Water \n\nH2O"},
    }
    for kind, data in posts.items():
        response = owner_client.post(f"{base}?kind={kind}", data)
        assert response.status_code == 302, (kind, response.content.decode()[:2000])
    with school_context(built.school):
        added = list(Question.objects.filter(quiz=built.quiz).order_by("-pk")[:4])[::-1]
        assert [q.kind for q in added] == list(posts)
        assert [(o.text, o.is_correct) for o in added[0].options.all()] == [
            ("3", False),
            ("4", True),
        ]
        assert [o.text for o in added[2].options.all() if o.is_correct] == ["True"]
        assert added[3].accepted_answers == ["water", "Water", "H2O"]
        assert [q.position for q in Question.objects.filter(quiz=built.quiz)] == [
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
        ]


def test_edit_keeps_option_ids_and_removes_ticked_rows(owner_client: Client, built: Built) -> None:
    question = built.questions[0]
    options = list(question.options.all())
    url = f"/manage/courses/quizzes/questions/{question.pk}/"
    page = owner_client.get(url).content.decode()
    assert 'value="Atlantic"' in page and 'name="option-count" value="5"' in page
    data = {
        "prompt_md": "Which ocean is *largest*?",
        "explanation_md": "",
        "option-count": "4",
        "option-0-id": str(options[0].pk),
        "option-0-text": "Atlantic Ocean",
        "option-1-id": str(options[1].pk),
        "option-1-text": "Pacific Ocean",
        "option-1-correct": "on",
        "option-2-id": str(options[2].pk),
        "option-2-text": "Indian",
        "option-2-remove": "on",
        "option-3-text": "Arctic",
    }
    assert owner_client.post(url, data).status_code == 302
    with school_context(built.school):
        question.refresh_from_db()
        after = list(question.options.all())
    assert "<em>largest</em>" in question.prompt_html
    assert [(o.pk, o.text) for o in after[:2]] == [
        (options[0].pk, "Atlantic Ocean"),
        (options[1].pk, "Pacific Ocean"),
    ]
    assert after[2].text == "Arctic" and len(after) == 3
    # True/false and text questions open with their values.
    response = owner_client.get(f"/manage/courses/quizzes/questions/{built.questions[2].pk}/")
    assert re.search(r'value="true"[^>]*checked', response.content.decode())
    response = owner_client.get(f"/manage/courses/quizzes/questions/{built.questions[3].pk}/")
    assert "Paris" in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("single", _rows(("A", False), ("B", False)), "none is marked correct"),
        ("multiple", _rows(("A", False), ("B", False)), "none is marked correct"),
        ("single", _rows(("A", True), ("B", True)), "exactly one correct option"),
        ("single", _rows(("A", True)), "at least two options"),
        ("single", _rows(("A", True), ("A", False)), "same text"),
        ("single", _rows(("A" * 301, True), ("B", False)), "under 300 characters"),
        (
            "multiple",
            _rows(*[(f"Option {i}", True) for i in range(MAX_OPTIONS + 1)]),
            f"at most {MAX_OPTIONS} options",
        ),
        ("multiple", {"option-count": "100000"}, f"at most {MAX_OPTIONS} options"),
        ("true_false", {}, "true or false"),
        ("text", {"accepted_answers": "  \n "}, "at least one accepted answer"),
        ("text", {"accepted_answers": "\n".join(str(i) for i in range(21))}, "at most 20"),
    ],
)
def test_bad_questions_are_refused(
    owner_client: Client, built: Built, kind: str, data: dict[str, str], message: str
) -> None:
    before = _snapshot(built)
    url = f"/manage/courses/quizzes/lessons/{built.lesson.pk}/questions/new/?kind={kind}"
    response = owner_client.post(url, {"prompt_md": "A question", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot(built) == before


def test_question_needs_a_prompt_and_a_known_kind(owner_client: Client, built: Built) -> None:
    before = _snapshot(built)
    url = f"/manage/courses/quizzes/lessons/{built.lesson.pk}/questions/new/"
    response = owner_client.post(f"{url}?kind=single", _rows(("A", True), ("B", False)))
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = owner_client.get(f"{url}?kind=essay")
    assert response.status_code == 302
    assert _snapshot(built) == before


def test_forged_option_ids_and_other_quizzes_are_refused(built: Built) -> None:
    other = build_quiz(built.school, built.owner, title="History")
    foreign = other.questions[0].options.all()[0]
    before = _snapshot(built)
    with school_context(built.school):
        with pytest.raises(QuizError, match="not part of this question"):
            services.save_question(
                school=built.school,
                actor=built.owner,
                lesson=built.lesson,
                question=built.questions[0],
                kind="single",
                prompt_md="x",
                options=[OptionInput("A", True, foreign.pk), OptionInput("B", False)],
            )
        with pytest.raises(QuizError, match="another quiz"):
            services.save_question(
                school=built.school,
                actor=built.owner,
                lesson=built.lesson,
                question=other.questions[0],
                kind="single",
                prompt_md="x",
                options=[OptionInput("A", True), OptionInput("B", False)],
            )
        with pytest.raises(QuizError, match="not a quiz"):
            services.ensure_quiz(school=built.school, actor=built.owner, lesson=built.text_lesson)
    assert _snapshot(built) == before


def test_external_images_in_prompts_are_refused_and_scripts_dropped(built: Built) -> None:
    with school_context(built.school):
        with pytest.raises(ValidationError, match=r"example\.org"):
            services.save_question(
                school=built.school,
                actor=built.owner,
                lesson=built.lesson,
                kind="text",
                prompt_md="![x](https://example.org/x.png)",
                accepted_answers=["a"],
            )
        question = services.save_question(
            school=built.school,
            actor=built.owner,
            lesson=built.lesson,
            kind="text",
            prompt_md="Hi <script>alert(1)</script><b onclick='x()'>there</b>",
            accepted_answers=["a"],
        )
    assert "<script" not in question.prompt_html and "onclick" not in question.prompt_html


def test_move_questions_with_htmx_and_without(owner_client: Client, built: Built) -> None:
    first, second = built.questions[0], built.questions[1]
    url = f"/manage/courses/quizzes/questions/{second.pk}/move/"
    response = owner_client.post(url, {"direction": "up"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"authoringStatus": "Question moved."}
    assert response.content.decode().index(
        f'id="question-{second.pk}"'
    ) < response.content.decode().index(f'id="question-{first.pk}"')
    response = owner_client.post(url, {"direction": "up"}, HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Trigger"]) == {
        "authoringStatus": "The question is already there."
    }
    response = owner_client.post(url, {"direction": "sideways"})
    assert response.status_code == 302
    response = owner_client.post(url, {"direction": "down"})
    assert response.status_code == 302 and response["Location"].endswith(f"#question-{second.pk}")
    with school_context(built.school):
        order = list(Question.objects.filter(quiz=built.quiz).values_list("pk", flat=True))
    assert order[:2] == [first.pk, second.pk]


def test_delete_question_asks_first(owner_client: Client, built: Built) -> None:
    question = built.questions[1]
    url = f"/manage/courses/quizzes/questions/{question.pk}/delete/"
    assert "Delete this question?" in owner_client.get(url).content.decode()
    assert owner_client.post(url).status_code == 302
    with school_context(built.school):
        assert not Question.objects.filter(pk=question.pk).exists()
        assert not Option.objects.filter(question_id=question.pk).exists()


def test_students_and_other_instructors_cannot_author(built: Built, make_user: Any) -> None:
    sam = student(built.school, "sam@alpha.test", built)
    teacher = make_user(built.school, "t@alpha.test", role="instructor")
    question = built.questions[0]
    before = _snapshot(built)
    urls = [
        f"/manage/courses/quizzes/lessons/{built.lesson.pk}/settings/",
        f"/manage/courses/quizzes/questions/{question.pk}/",
        f"/manage/courses/quizzes/questions/{question.pk}/move/",
        f"/manage/courses/quizzes/questions/{question.pk}/delete/",
    ]
    for url in urls:
        assert client_as(sam).post(url, {"direction": "down"}).status_code in (302, 403)
        assert client_as(teacher).post(url, {"direction": "down"}).status_code == 403
    assert (
        client_as(teacher)
        .get(f"/manage/courses/quizzes/lessons/{built.lesson.pk}/stats/")
        .status_code
        == 403
    )
    with school_context(built.school), pytest.raises(PermissionDenied):
        services.delete_question(school=built.school, actor=teacher, question=question)
    assert _snapshot(built) == before


def test_outline_adds_a_quiz_lesson_whose_editor_has_the_quiz(
    owner_client: Client, built: Built
) -> None:
    response = owner_client.post(
        f"/manage/courses/sections/{built.lesson.section_id}/lessons/new/",
        {"title": "Final check", "kind": "quiz"},
    )
    assert response.status_code == 302
    with school_context(built.school):
        lesson = Lesson.objects.get(section_id=built.lesson.section_id, title="Final check")
    assert lesson.kind == "quiz"
    page = owner_client.get(f"/manage/courses/lessons/{lesson.pk}/").content.decode()
    assert "No questions yet: add the first one below." in page
    assert 'name="pass_mark" value="70"' in page  # the defaults, before any quiz row exists
    with school_context(built.school):
        assert not Quiz.objects.filter(lesson=lesson).exists()  # a GET writes nothing


def test_lesson_kinds_refuse_an_unknown_kind() -> None:
    from courseplatform.courses.lesson_kinds import KindHooks, register_kind

    with pytest.raises(ValueError, match="unknown lesson kind"):
        register_kind("podcast", KindHooks())
