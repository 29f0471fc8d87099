"""Grading: pure functions over a question, its options and one student's answer.

Rules (all-or-nothing per question, every question weighs the same):

* single choice and true/false: right when exactly the one correct option is chosen;
* multiple choice: right when the chosen options are exactly the correct ones
  (choosing every option is wrong unless every option is correct);
* short text: right when the answer matches one accepted answer after trimming and
  collapsing inner whitespace; case-insensitive (Unicode case folding) unless the
  question is case-sensitive;
* no answer is wrong.

The score is the share of right answers in whole percent, rounded down, so a student
never sees "70 %" for 69.9 %; passing compares exact fractions with the pass mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .models import Question

Answer = list[int] | str


def normalize_text(text: str, *, case_sensitive: bool) -> str:
    collapsed = " ".join(text.split())
    return collapsed if case_sensitive else collapsed.casefold()


def is_text_right(answer: str, accepted: Iterable[str], *, case_sensitive: bool) -> bool:
    given = normalize_text(answer, case_sensitive=case_sensitive)
    if not given:
        return False
    return any(
        given == normalize_text(candidate, case_sensitive=case_sensitive) for candidate in accepted
    )


def is_choice_right(chosen: Iterable[int], correct: Iterable[int], *, single: bool) -> bool:
    chosen_set, correct_set = set(chosen), set(correct)
    if not chosen_set:
        return False
    if single and len(chosen_set) != 1:
        return False
    return chosen_set == correct_set


def is_right(question: Question, correct_option_ids: Sequence[int], answer: Answer | None) -> bool:
    if answer is None:
        return False
    if question.kind == Question.Kind.TEXT:
        return isinstance(answer, str) and is_text_right(
            answer, question.accepted_answers, case_sensitive=question.case_sensitive
        )
    if isinstance(answer, str):
        return False
    return is_choice_right(
        answer, correct_option_ids, single=question.kind != Question.Kind.MULTIPLE
    )


@dataclass(frozen=True)
class Score:
    correct: int
    total: int

    @property
    def percent(self) -> int:
        return (100 * self.correct) // self.total if self.total else 0

    def passes(self, pass_mark: int) -> bool:
        # correct/total >= pass_mark/100, in integers.
        return self.total > 0 and 100 * self.correct >= pass_mark * self.total
