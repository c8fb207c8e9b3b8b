"""The learned judgment: the model format, sign-constrained fitting, folds and thresholds, the shipped
models and what happens without them, and `ncmec-qa train` on a training set written for these tests
(the tiny corpus, the fake embedder)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import FAKE_MODEL, location_args, run_cli

from ncmec_qa.learn.folds import auc, choose_threshold, decisions, group_folds, reliability
from ncmec_qa.learn.linear import FORMAT, LinearModel, fit_logistic, fit_one_vs_rest, hand_set
from ncmec_qa.learn.shipped import MODEL_NAMES, PARAMS, ModelMissing, load_judgment, load_model

# -- the model format --------------------------------------------------------------------------------


def _model(**kw) -> LinearModel:
    base = dict(
        name="m",
        features=("a", "b"),
        mean=np.array([1.0, 0.0]),
        scale=np.array([2.0, 1.0]),
        coef=np.array([0.5, -1.0]),
        intercept=np.array(0.25),
    )
    return LinearModel(**{**base, **kw})


def test_decision_standardises_then_weighs():
    m = _model()
    X = np.array([[3.0, 1.0], [1.0, 0.0]])
    assert m.decision(X).tolist() == pytest.approx([0.5 * 1.0 - 1.0 + 0.25, 0.25])
    assert m.proba(X).tolist() == pytest.approx([1 / (1 + np.exp(0.25)), 1 / (1 + np.exp(-0.25))])
    assert m.weights() == {"a": 0.25, "b": -1.0}


def test_softmax_and_one_sigmoid_per_class():
    coef = np.array([[1.0, -1.0], [0.0, 0.0]])
    soft = _model(coef=coef, intercept=np.zeros(2), classes=("x", "y"))
    sig = replace(soft, link="sigmoid")
    X = np.array([[3.0, 5.0]])  # z = (1, 5)
    assert soft.proba(X)[0].tolist() == pytest.approx(
        [np.exp(1) / (np.exp(1) + np.exp(-1)), np.exp(-1) / (np.exp(1) + np.exp(-1))]
    )
    assert sig.proba(X)[0].tolist() == pytest.approx([1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))])


def test_matrix_names_a_missing_feature():
    with pytest.raises(KeyError, match="model 'm' needs feature 'b'"):
        _model().matrix([{"a": 1.0}])


def test_json_round_trip_is_exact(tmp_path):
    m = _model(meta={"threshold": 0.25})
    m.save(tmp_path / "m.json")
    back = LinearModel.load(tmp_path / "m.json")
    assert back.to_dict() == m.to_dict() and json.loads((tmp_path / "m.json").read_text())["format"] == FORMAT


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format": "something else"}, "not a"),
        ({"mean": [1.0]}, "do not match its 2 features"),
        ({"scale": [0.0, 1.0]}, "do not match its 2 features"),
        ({"coef": [float("nan"), 1.0]}, "non-finite"),
        ({"link": "probit"}, "unknown link"),
    ],
)
def test_a_damaged_model_file_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        LinearModel.from_dict({**_model().to_dict(), **change})


# -- fitting ----------------------------------------------------------------------------------------


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 3))
    y = (1.5 * X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=400) > 0).astype(int)
    return X, y


def test_signed_fit_is_sklearns_fit_when_no_sign_binds():
    X, y = _data()
    free = fit_logistic("f", ["x", "y", "z"], X, y, C=0.5)
    signed = fit_logistic("s", ["x", "y", "z"], X, y, C=0.5, signs={"x": +1, "y": -1})
    assert signed.coef == pytest.approx(free.coef, abs=1e-4)
    assert float(signed.intercept) == pytest.approx(float(free.intercept), abs=1e-4)


def test_a_sign_that_binds_pins_its_weight_at_zero():
    X, y = _data()
    m = fit_logistic("s", ["x", "y", "z"], X, y, C=0.5, signs={"y": +1})  # y's true weight is negative
    assert m.coef[1] == 0.0 and m.coef[0] > 0
    assert m.meta["signs"] == {"y": 1}


def test_fitting_is_deterministic():
    X, y = _data(3)
    a = fit_logistic("a", ["x", "y", "z"], X, y, C=0.1).to_dict()
    b = fit_logistic("a", ["x", "y", "z"], X, y, C=0.1).to_dict()
    assert a == b


def test_one_vs_rest_fits_each_class_against_the_rest_with_its_own_signs():
    X, y3 = _data()
    labels = np.where(X[:, 2] > 0.5, "c", np.where(y3 == 1, "a", "b"))
    m = fit_one_vs_rest("o", ["x", "y", "z"], X, list(labels), ("a", "c"), C=1.0, signs={"c": {"z": -1}})
    assert m.classes == ("a", "c") and m.coef.shape == (3, 2) and m.link == "sigmoid"
    assert m.coef[2, 1] == 0.0  # "c" rises with z, but its weight may not be positive
    alone = fit_logistic("a", ["x", "y", "z"], X, [int(v == "a") for v in labels], C=1.0, signs={})
    assert m.coef[:, 0] == pytest.approx(alone.coef, abs=1e-4)


def test_the_verdict_is_fitted_over_the_features_and_signs_it_is_given():
    from ncmec_qa.learn.mining import Example
    from ncmec_qa.learn.train import VERDICT_MODEL_FEATURES, MinedClaim, fit_verdict
    from ncmec_qa.verify.verdict_features import VERDICT_SIGNS

    rng = np.random.default_rng(0)
    labels = ["supported", "contradicted", "not_in_corpus"] * 20
    claims = []
    for i, label in enumerate(labels):  # only "extra" tells supported claims apart; the shipped features are noise
        f = {name: float(rng.normal()) for name in VERDICT_MODEL_FEATURES}
        f["extra"] = float(label == "supported") + 0.1 * float(rng.normal())
        claims.append(MinedClaim(Example(f"c{i}", "a claim", "g", label=label), None, f))
    features = (*VERDICT_MODEL_FEATURES, "extra")

    def signs(sign: int) -> dict[str, dict[str, int]]:
        return {**VERDICT_SIGNS, "supported": {**VERDICT_SIGNS["supported"], "extra": sign}}

    shipped = fit_verdict(claims, 1.0)
    assert shipped.features == VERDICT_MODEL_FEATURES  # the default: the shipped features only
    up = fit_verdict(claims, 1.0, features=features, signs=signs(1))
    at = up.classes.index("supported")
    assert up.features == features and up.coef[-1, at] > 1.0
    assert fit_verdict(claims, 1.0, features=features, signs=signs(-1)).coef[-1, at] == 0.0  # the sign binds


def test_a_one_sided_training_set_is_a_clear_error():
    with pytest.raises(ValueError, match="needs examples of each outcome"):
        fit_logistic("x", ["a"], np.ones((4, 1)), [1, 1, 1, 1])


# -- folds, thresholds, calibration -------------------------------------------------------------------


def test_group_folds_leave_each_group_out_once():
    folds = group_folds(["b", "a", "b", "c"])
    assert [(g, tr.tolist(), te.tolist()) for g, tr, te in folds] == [
        ("a", [0, 2, 3], [1]),
        ("b", [1, 3], [0, 2]),
        ("c", [0, 1, 2], [3]),
    ]


def test_auc_counts_ties_as_half():
    assert auc([0.9, 0.8, 0.1], [1, 1, 0]) == 1.0
    assert auc([0.5, 0.5], [1, 0]) == 0.5
    assert auc([0.1, 0.9], [1, 0]) == 0.0


def test_the_threshold_is_the_lowest_that_reaches_the_precision():
    p = [0.9, 0.8, 0.7, 0.6, 0.3, 0.2]
    y = [1, 1, 0, 1, 0, 0]
    # at 0.30 five are answered, three rightly (0.6); from 0.35 four, three rightly (0.75)
    assert choose_threshold(p, y, 0.75) == 0.35
    assert choose_threshold(p, y, 0.75, grid=(0.25, 0.5, 0.75)) == 0.5
    assert choose_threshold(p, y, 1.0, grid=(0.25, 0.5, 0.75)) == 0.75  # 0.75 answers the two right ones
    d = decisions(p, [1, 1, 0, 1, 0, 0], 0.5)
    assert (d["answerable answered"], d["unanswerable abstained"], d["precision"]) == (3, 2, 0.75)


def test_reliability_bins_predictions():
    rows = reliability([0.05, 0.15, 0.95, 0.91], [0, 1, 1, 1], bins=2)
    assert [(r["questions"], r["observed"]) for r in rows] == [(2, 0.5), (2, 1.0)]


# -- the shipped models ----------------------------------------------------------------------------


def test_the_shipped_models_load_and_were_fitted_on_train():
    j = load_judgment()
    for name in MODEL_NAMES:
        m = getattr(j, name)
        assert m.meta.get("fitted") is True, name
        assert m.name == name
    assert 0 < j.abstainer.meta["threshold"] < 1
    assert j.verdict.classes == ("contradicted", "supported") and j.verdict.link == "sigmoid"
    assert 0 < j.verdict.meta["supported_threshold"] <= 1 and 0 < j.verdict.meta["contradicted_threshold"] <= 1
    # the sign constraints hold in the committed parameters
    for name in ("selector", "abstainer"):
        m = getattr(j, name)
        for f, s in m.meta["signs"].items():
            assert m.coef[m.features.index(f)] * s >= 0, (name, f)


def test_a_missing_model_is_an_error_that_says_how_to_rebuild_it(tmp_path):
    for name in MODEL_NAMES:
        (tmp_path / f"{name}.json").write_text((PARAMS / f"{name}.json").read_text())
    (tmp_path / "selector.json").unlink()
    with pytest.raises(ModelMissing, match=r"the learned selector model is missing .*rebuild it with `ncmec-qa train`"):
        load_judgment(tmp_path)
    (tmp_path / "verdict.json").write_text("{not json")
    with pytest.raises(ModelMissing, match="the learned verdict model at .* is unreadable"):
        load_model("verdict", tmp_path)


def test_ask_without_its_models_exits_2_with_one_line(built_tiny, tmp_path, monkeypatch):
    args, _ = built_tiny
    monkeypatch.setenv("NCMEC_QA_MODELS", str(tmp_path / "nothing-here"))
    from click.testing import CliRunner

    from ncmec_qa.cli.commands import main

    r = CliRunner().invoke(main, [*args, "ask", "Does the registry keep every report for ninety days?"])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the learned ranker model is missing"), r.stderr


# -- the trainer on a training set of the tiny corpus ----------------------------------------------------

TINY_QUESTIONS = [
    # (id, group, question, answerable, [(file, quote)])
    (
        "t-01",
        "notes",
        "How long does the registry keep every report?",
        True,
        [("notes.txt", "keeps every report for ninety days")],
    ),
    (
        "t-02",
        "notes",
        "Can operators ask the registry to correct a report?",
        True,
        [("notes.txt", "Operators can ask the registry to correct a report at any time.")],
    ),
    ("t-03", "notes", "What happens to a report after ninety days?", True, [("notes.txt", "the report is archived")]),
    ("t-04", "notes", "Which color are the registry's archive boxes?", False, []),
    (
        "t-05",
        "handbook",
        "Within how many days must an operator file a widget report?",
        True,
        [("handbook/handbook.md", "within 30 days of discovery")],
    ),
    (
        "t-06",
        "handbook",
        "What fine does an operator pay who never files a report?",
        True,
        [("handbook/handbook.md", "pays a fine of up to $5,000 for each widget")],
    ),
    (
        "t-07",
        "handbook",
        "What does a widget report include?",
        True,
        [("handbook/handbook.md", "A widget report includes the serial number of the widget.")],
    ),
    ("t-08", "handbook", "How many widget reports were filed in 2019?", False, []),
    (
        "t-09",
        "audit",
        "How many missing widget reports did the registry audit find?",
        True,
        [("audit.pdf", "The registry audit found forty missing widget reports.")],
    ),
    ("t-10", "audit", "When do registry audits happen?", True, [("audit.pdf", "audits happen every spring")]),
    (
        "t-11",
        "audit",
        "Did the auditors review every office in person?",
        True,
        [("audit.pdf", "Auditors reviewed every office in person.")],
    ),
    ("t-12", "audit", "Who paid for the registry audit?", False, []),
]
TINY_CLAIMS = [
    (
        "c-01",
        "notes",
        "The registry keeps every report for ninety days.",
        "supported",
        [("notes.txt", "The registry keeps every report for ninety days.")],
    ),
    (
        "c-02",
        "notes",
        "The registry keeps every report for ten days.",
        "contradicted",
        [("notes.txt", "The registry keeps every report for ninety days.")],
    ),
    ("c-03", "notes", "The registry charges a fee for every correction.", "not_in_corpus", []),
    (
        "c-04",
        "handbook",
        "An operator must file a widget report within 30 days of discovery.",
        "supported",
        [("handbook/handbook.md", "within 30 days of discovery")],
    ),
    (
        "c-05",
        "handbook",
        "An operator must file a widget report within 90 days of discovery.",
        "contradicted",
        [("handbook/handbook.md", "within 30 days of discovery")],
    ),
    ("c-06", "handbook", "The handbook was written by the national widget council.", "not_in_corpus", []),
    (
        "c-07",
        "audit",
        "The registry audit found forty missing widget reports.",
        "supported",
        [("audit.pdf", "The registry audit found forty missing widget reports.")],
    ),
    (
        "c-08",
        "audit",
        "The registry audit found four hundred missing widget reports.",
        "contradicted",
        [("audit.pdf", "The registry audit found forty missing widget reports.")],
    ),
    ("c-09", "audit", "The audit was paid for by the operators.", "not_in_corpus", []),
]


def write_training_set(folder):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "questions.jsonl", "w", encoding="utf-8") as f:
        for qid, group, q, answerable, ev in TINY_QUESTIONS:
            f.write(
                json.dumps(
                    {
                        "id": qid,
                        "group": group,
                        "question": q,
                        "answerable": answerable,
                        "evidence": [{"file": a, "quote": b} for a, b in ev],
                    }
                )
                + "\n"
            )
    with open(folder / "claims.jsonl", "w", encoding="utf-8") as f:
        for cid, group, c, label, ev in TINY_CLAIMS:
            f.write(
                json.dumps(
                    {
                        "id": cid,
                        "group": group,
                        "claim": c,
                        "label": label,
                        "evidence": [{"file": a, "quote": b} for a, b in ev],
                    }
                )
                + "\n"
            )
    return folder


@pytest.fixture
def built_tiny(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    args = location_args(tiny_corpus, index_dir)
    r = run_cli([*args, "index", "build", "--model", FAKE_MODEL])
    assert r.exit_code == 0, r.output
    return args, index_dir


def test_train_writes_the_four_models_deterministically_and_check_compares(built_tiny, tmp_path):
    args, _ = built_tiny
    data = write_training_set(tmp_path / "train")
    out1, out2 = tmp_path / "models-1", tmp_path / "models-2"
    r = run_cli([*args, "train", "--data", str(data), "--out", str(out1), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert set(report) == {"schema_version", "type", "questions", "claims"} and report["type"] == "train"
    assert report["questions"]["abstainer"]["cv"]["answerable"] == 9
    assert report["claims"]["cv"]["claims"] == 9
    assert sorted(p.name for p in out1.iterdir()) == sorted(f"{n}.json" for n in MODEL_NAMES)
    assert run_cli([*args, "train", "--data", str(data), "--out", str(out2)]).exit_code == 0
    for n in MODEL_NAMES:  # the same data gives the same parameters, byte for byte
        assert (out1 / f"{n}.json").read_text() == (out2 / f"{n}.json").read_text(), n
    ok = run_cli([*args, "train", "--data", str(data), "--out", str(out1), "--check"])
    assert ok.exit_code == 0 and "match" in ok.stderr
    m = LinearModel.load(out1 / "ranker.json")
    replace(m, coef=m.coef * 1.5).save(out1 / "ranker.json")
    bad = run_cli([*args, "train", "--data", str(data), "--out", str(out1), "--check"])
    assert bad.exit_code == 1 and "ranker: coef differs" in bad.stderr
    # the models written are the ones `ask` uses with NCMEC_QA_MODELS
    from ncmec_qa.learn.shipped import models_dir

    assert models_dir(out2) == out2


def test_claims_are_mined_without_the_sources_excluded(fake_ws):
    from ncmec_qa.learn.mining import Example
    from ncmec_qa.learn.train import mine_claims

    ex = [Example(cid, c, group, label=label) for cid, group, c, label, _ in TINY_CLAIMS]
    read = {u.unit.source_id for m in mine_claims(fake_ws, ex) for u in m.assessment.candidates}
    assert "tiny-notes" in read  # the claims are the notes' own sentences
    without = mine_claims(fake_ws, ex, exclude={"tiny-notes"})
    assert "tiny-notes" not in {u.unit.source_id for m in without for u in m.assessment.candidates}
    assert [m.example.id for m in without] == [e.id for e in ex]


def test_train_without_the_training_sets_says_where_it_looked(built_tiny, tmp_path):
    args, _ = built_tiny
    r = run_cli([*args, "train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")])
    assert r.exit_code == 2
    assert (
        r.stderr.strip()
        == f"Error: no questions.jsonl in {tmp_path / 'nowhere'}: give the training sets' folder with --data"
    )


def test_hand_set_models_are_marked_unfitted():
    m = hand_set("rules", {"cosine": 1.0, "coverage": 0.5})
    assert m.meta == {"fitted": False} and m.decision(np.array([[0.2, 0.4]])).tolist() == pytest.approx([0.4])


def test_training_sets_load_questions_and_claims_and_name_a_bad_line(tmp_path):
    from ncmec_qa.errors import NcmecQaError
    from ncmec_qa.evaluation import Evidence
    from ncmec_qa.learn.mining import load_examples

    p = tmp_path / "set.jsonl"
    p.write_text(
        json.dumps({"id": "q-1", "question": "How long?", "group": "acts", "answerable": False})
        + "\n\n"
        + json.dumps(
            {
                "id": 7,
                "claim": "It is 90 days.",
                "label": "supported",
                "evidence": [{"file": "a.md", "quote": "90 days"}],
                "note": "n",
            }
        )
        + "\n"
    )
    q, c = load_examples(p)
    assert (q.id, q.text, q.group, q.answerable, q.label) == ("q-1", "How long?", "acts", False, "")
    assert (c.id, c.text, c.group, c.label, c.evidence, c.note) == (
        "7",
        "It is 90 days.",
        "dev",
        "supported",
        (Evidence("a.md", "90 days"),),
        "n",
    )
    p.write_text(p.read_text() + '{"id": "x"}\n')
    with pytest.raises(NcmecQaError, match=r"set.jsonl, line 4: not a question or claim record \('claim'\)$"):
        load_examples(p)
