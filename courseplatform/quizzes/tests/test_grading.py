"""Grading of every question type, edge cases included (pure functions, no database)."""

from __future__ import annotations

from courseplatform.quizzes.grading import Score, is_right, normalize_text
from courseplatform.quizzes.models import Question


def q(kind: str, **kwargs: object) -> Question:
    return Question(kind=kind, prompt_md="?", **kwargs)


def test_single_choice_needs_exactly_the_correct_option() -> None:
    single = q("single")
    assert is_right(single, [2], [2])
    assert not is_right(single, [2], [1])
    assert not is_right(single, [2], [1, 2])  # two chosen (forged form)
    assert not is_right(single, [2], [])
    assert not is_right(single, [2], None)
    assert not is_right(single, [2], "2")  # a text answer to a choice question


def test_true_false_is_a_single_choice() -> None:
    tf = q("true_false")
    assert is_right(tf, [7], [7])
    assert not is_right(tf, [7], [8])
    assert not is_right(tf, [7], [7, 8])


def test_multiple_choice_is_all_or_nothing() -> None:
    multiple = q("multiple")
    assert is_right(multiple, [1, 3], [3, 1])
    assert not is_right(multiple, [1, 3], [1])  # partly right
    assert not is_right(multiple, [1, 3], [1, 2, 3])  # every option chosen
    assert not is_right(multiple, [1, 3], [])
    assert is_right(q("multiple"), [1, 2, 3], [1, 2, 3])  # all options really correct


def test_text_answers_trim_collapse_and_fold_case() -> None:
    text = q("text", accepted_answers=["New York", "NYC"])
    assert is_right(text, [], "  new   york ")
    assert is_right(text, [], "nyc")
    assert is_right(text, [], "NEW\tYORK")
    assert not is_right(text, [], "New Yorks")
    assert not is_right(text, [], "   ")
    assert not is_right(text, [], None)
    assert not is_right(text, [], [1])  # a choice answer to a text question


def test_case_sensitive_text_answers() -> None:
    text = q("text", accepted_answers=["pH"], case_sensitive=True)
    assert is_right(text, [], " pH ")
    assert not is_right(text, [], "PH")
    assert normalize_text("Straße", case_sensitive=False) == normalize_text(
        "STRASSE", case_sensitive=False
    )


def test_score_rounds_down_and_passing_uses_exact_fractions() -> None:
    assert Score(2, 3).percent == 66
    assert Score(2, 3).passes(66)
    assert not Score(2, 3).passes(67)
    assert Score(0, 0).percent == 0
    assert not Score(0, 0).passes(0)
    assert Score(3, 3).passes(100)
    assert Score(0, 4).passes(0)
