"""Learned judgment: linear models fitted on ../shared/train, stored as small JSON files, applied with numpy.

- `linear`: the model format (named features, standardisation, weights) and its fitting;
- `shipped`: the models that ship with the package (`params/*.json`) and how they are loaded;
- `mining`, `folds`, `train`: examples from the tool's own retrieval, group folds, the trainer
  behind `ncmec-qa train` (these import scikit-learn; the query path never does).
"""
