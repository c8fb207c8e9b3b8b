"""The learned models that ship with ncmec-qa (`params/*.json`, written by `ncmec-qa train`), loaded once.

A missing or damaged parameter file is an error that says how to rebuild it, never a silent
fallback to other weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import NcmecQaError
from .linear import LinearModel

PARAMS = Path(__file__).resolve().parent / "params"
MODEL_NAMES = ("ranker", "selector", "abstainer", "verdict")
ENV_MODELS = "NCMEC_QA_MODELS"  # another folder of models (written by `ncmec-qa train --out`)


def models_dir(folder: Path | str | None = None) -> Path:
    """The folder the learned models are read from: `folder`, else $NCMEC_QA_MODELS, else the shipped ones."""
    import os

    return Path(folder or os.environ.get(ENV_MODELS) or PARAMS)


class ModelMissing(NcmecQaError):
    """A learned model's parameters are missing or unreadable."""


@dataclass(frozen=True)
class Judgment:
    """The fitted models behind ranking, answer selection, abstention and verdicts."""

    ranker: LinearModel
    selector: LinearModel
    abstainer: LinearModel
    verdict: LinearModel


def load_model(name: str, folder: Path | None = None) -> LinearModel:
    path = models_dir(folder) / f"{name}.json"
    try:
        return LinearModel.load(path)
    except FileNotFoundError:
        raise ModelMissing(f"the learned {name} model is missing ({path}); rebuild it with `ncmec-qa train`") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelMissing(
            f"the learned {name} model at {path} is unreadable ({e}); rebuild it with `ncmec-qa train`"
        ) from None


def load_judgment(folder: Path | None = None) -> Judgment:
    return Judgment(*(load_model(n, folder) for n in MODEL_NAMES))
