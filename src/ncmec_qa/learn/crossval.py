"""Cross-validated answers and verdicts: each training question answered by the models fitted without its group.

`cv_answers` replays every training question with the fold models of `fit_question_models`
(ranker and selector fitted on the other groups, the abstainer fitted on the other groups'
out-of-fold evidence, the threshold chosen on all out-of-fold predictions), so that the
measures of `evaluation.evaluate` (top 5, MRR, answer precision, answered, abstained) are those of
questions from a part of the corpus the models were not fitted on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ..answer.answering import AnswerConfig
from ..evaluation import EvalReport, evaluate
from ..models import Answer
from ..search.retrieval import RetrievalConfig
from .mining import MinedQuestion
from .replay import Replayer, as_questions
from .shipped import Judgment
from .train import QuestionModels


def cv_answers(
    qm: QuestionModels, mined: Sequence[MinedQuestion], replayer: Replayer, rcfg: RetrievalConfig, acfg: AnswerConfig
) -> dict[str, Answer]:
    """Question text -> its answer by the models that did not see its group."""
    return {m.example.text: replayer.answer(m, qm.folds[m.group], rcfg, acfg) for m in mined}


def answers_by(
    models: Judgment, mined: Sequence[MinedQuestion], replayer: Replayer, rcfg: RetrievalConfig, acfg: AnswerConfig
) -> dict[str, Answer]:
    return {m.example.text: replayer.answer(m, models, rcfg, acfg) for m in mined}


def report_of(answers: dict[str, Answer], mined: Sequence[MinedQuestion], document_text) -> EvalReport:
    return evaluate(as_questions(mined), lambda q: answers[q], document_text)


def with_threshold(models: Judgment, threshold: float) -> Judgment:
    return replace(models, abstainer=replace(models.abstainer, meta={**models.abstainer.meta, "threshold": threshold}))
