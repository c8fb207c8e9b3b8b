"""`ncmec-qa train`: refit the learned models from the training sets (a thin wrapper over `learn.train`)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import NcmecQaError
from .commands import Context, emit_json, handle_errors, json_option

ENV_TRAIN = "NCMEC_QA_TRAIN"


def default_data(manifest: Path) -> Path:
    """`../shared/train` beside the checkout that holds the manifest."""
    return manifest.resolve().parents[2] / "shared" / "train"


@click.command()
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=ENV_TRAIN,
    help="Folder with questions.jsonl and claims.jsonl. Default: ../shared/train beside the checkout. "
    f"[env {ENV_TRAIN}]",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the models. Default: $NCMEC_QA_MODELS, else the package's own learn/params "
    "(the shipped models).",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 when the refitted models differ from those in --out."
)
@json_option
@click.pass_obj
@handle_errors
def train(obj: Context, data, out, check, as_json):
    """Refit the ranker, answer selector, abstainer and verdict model on the training sets (--data),
    cross-validated by group; --out writes them elsewhere, --check only compares (exit 1 when they differ).

    Cross-validated by group (leave one part of the corpus out); thresholds are chosen on the
    out-of-fold predictions. Needs the reference corpus's index (`ncmec-qa index build`).
    """
    from ..learn.shipped import load_judgment, models_dir
    from ..learn.train import same_models, save_models, train_all

    ws = obj.workspace()
    ws.check_fresh()
    data = data or default_data(ws.paths.manifest)
    for name in ("questions.jsonl", "claims.jsonl"):
        if not (data / name).is_file():
            raise NcmecQaError(f"no {name} in {data}: give the training sets' folder with --data")
    out = out or models_dir()
    models, report = train_all(ws, data, log=obj.log)
    if check:
        diff = same_models(models, load_judgment(out))
        if diff:
            click.echo(f"the refitted models differ from those in {out}: {diff}", err=True)
            raise click.exceptions.Exit(1)
        obj.log(f"the refitted models match those in {out}")
    else:
        paths = save_models(models, out)
        obj.log("wrote " + ", ".join(str(p) for p in paths))
    if as_json:
        emit_json(report, "train")
    else:
        q, c = report["questions"]["abstainer"], report["claims"]["cv"]
        click.echo(
            f"abstention (cross-validated by group): AUC {q['cv_auc']:.3f}, threshold {q['cv']['threshold']:.2f}: "
            f"{q['cv']['answerable answered']}/{q['cv']['answerable']} answerable answered, "
            f"{q['cv']['unanswerable abstained']}/{q['cv']['unanswerable']} unanswerable abstained"
        )
        click.echo(
            f"verdicts (cross-validated by group): accuracy {c['accuracy']:.3f}, contradicted recall "
            f"{c['contradicted recall']:.3f}, not in corpus called supported {c['not_in_corpus called supported']:.3f}"
        )


def register(main: click.Group) -> None:
    main.add_command(train)
