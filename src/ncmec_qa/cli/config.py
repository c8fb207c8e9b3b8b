"""`ncmec-qa config`: where the manifest, documents, index and model are, and why; setting them in the config file."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import (
    DATA_DIR,
    DEFAULT,
    DESCRIBE,
    ENV_CONFIG,
    KEYS,
    MANIFEST,
    ConfigError,
    Paths,
    config_path,
    config_value,
    data_dir,
    resolve_paths,
    write_setting,
)
from ..errors import NcmecQaError
from .commands import Context, emit_json, handle_errors, json_option


def _paths(obj: Context) -> Paths:
    return resolve_paths(corpus=obj.corpus, index=obj.index, docs=obj.docs)


def _config_file(paths_or_none: Paths | None = None) -> dict:
    import os

    path = paths_or_none.config_file if paths_or_none else config_path()
    return {
        "path": str(path),
        "exists": path.is_file(),
        "origin": "environment" if os.environ.get(ENV_CONFIG) else DEFAULT,
    }


def _docs_in_use(p: Paths) -> tuple[str | None, str]:
    """The documents folder a command would use, and a note when the manifest decides it (or cannot)."""
    s = p.setting("docs")
    if s is not None and s.value:
        return s.value, ""
    from ..corpus.manifest import load_manifest

    try:
        m = load_manifest(p.manifest, strict=False)
    except NcmecQaError:
        return None, "its `documents` setting, but the manifest cannot be read"
    if m.documents:
        return str(m.docs_dir()), f"`documents = {m.documents!r}` in {p.manifest}"
    if p.default_docs is not None:
        return str(p.default_docs), "it names no `documents`: the user data folder's"
    return None, f"{p.manifest} names no `documents`: pass --docs or `ncmec-qa config set docs PATH`"


def show_dict(p: Paths) -> dict:
    settings = {s.key: s.to_dict() for s in p.settings}
    docs, note = _docs_in_use(p)
    settings["docs"].update(value=docs, detail=note or settings["docs"]["detail"])
    if settings["model"]["value"] is None:
        settings["model"]["value"] = "all-MiniLM-L6-v2"
    settings["corpus"]["value"] = str(p.manifest)
    for key, s in settings.items():  # a path that is not there yet (an index before its first build)
        value = s["value"]
        is_path = value is not None and (key != "model" or Path(value).is_absolute())  # a model may be a name
        s["exists"] = Path(value).exists() if is_path else None
    return {
        "config_file": _config_file(p),
        "settings": settings,
        "checkout": str(p.checkout) if p.checkout else None,
        "data_dir": str(data_dir()),
    }


def _why(key: str, s: dict) -> str:
    origin, detail = s["origin"], s["detail"]
    if origin == "option":
        return f"option {detail}"
    if origin == "environment":
        return f"environment {detail}"
    if origin == "config file":
        return f"config file {detail}"
    if origin == "checkout":
        return f"checkout {detail} (found from the working directory)"
    if origin == DATA_DIR:
        return f"user data folder {detail} (not in a checkout, and no {key} configured)"
    if origin == MANIFEST:
        return f"the manifest: {detail}"
    return f"the default: {detail}"


def print_show(d: dict) -> None:
    cf = d["config_file"]
    state = "" if cf["exists"] else " (not created yet; `ncmec-qa config set KEY VALUE` creates it)"
    via = f" (from {ENV_CONFIG})" if cf["origin"] == "environment" else ""
    click.echo(f"config file: {cf['path']}{via}{state}")
    for key in KEYS:
        s = d["settings"][key]
        missing = "  (does not exist)" if s["exists"] is False else ""
        click.echo(f"{key + ':':8} {s['value'] if s['value'] is not None else '(none)'}{missing}")
        click.echo(f"{'':8}   from {_why(key, s)}")


@click.group("config", invoke_without_command=True)
@json_option
@click.pass_context
@handle_errors
def config(ctx: click.Context, as_json):
    """Show where the manifest, documents, index and model are, and which source decided each.

    Precedence: the option (--corpus, --docs, --index), the environment (NCMEC_QA_CORPUS, NCMEC_QA_DOCS,
    NCMEC_QA_INDEX, NCMEC_QA_MODEL), the config file (`ncmec-qa config path`; NCMEC_QA_CONFIG names another),
    the checkout found from the working directory, the user data folder.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(show, as_json=as_json)


@config.command("show")
@json_option
@click.pass_obj
@handle_errors
def show(obj: Context, as_json):
    """Each setting's value and where it came from: option, environment, config file, checkout or user data
    folder (the same as `ncmec-qa config`)."""
    d = show_dict(_paths(obj))
    if as_json:
        emit_json(d, "config")
    else:
        print_show(d)


@config.command("path")
@json_option
@handle_errors
def path_cmd(as_json):
    """Print where the config file is (whether or not it exists yet)."""
    if as_json:
        emit_json({"config_file": _config_file()}, "config_path")
    else:
        click.echo(str(config_path()))


def _key_arg(f):
    return click.argument("key", type=click.Choice(KEYS), metavar="KEY")(f)


@config.command("set")
@_key_arg
@click.argument("value")
@json_option
@handle_errors
def set_cmd(key, value, as_json):
    """Set KEY (corpus, docs, index or model) to VALUE in the config file; paths are stored absolute."""
    path = config_path()
    stored = config_value(key, value)
    changed = write_setting(path, key, stored)
    if key != "model" and not Path(stored).exists():
        click.echo(f"note: {stored} does not exist yet ({DESCRIBE[key]})", err=True)
    if as_json:
        emit_json({"key": key, "value": stored, "changed": changed, "config_file": _config_file()}, "config_setting")
    else:
        click.echo(f"{key} = {stored}  ({'set in' if changed else 'already so in'} {path})")


@config.command("unset")
@_key_arg
@json_option
@handle_errors
def unset_cmd(key, as_json):
    """Remove KEY from the config file (the next source in the precedence then decides)."""
    path = config_path()
    changed = write_setting(path, key, None)
    if as_json:
        emit_json({"key": key, "value": None, "changed": changed, "config_file": _config_file()}, "config_setting")
    else:
        click.echo(f"{key} {'removed from' if changed else 'was not set in'} {path}")


def register(main: click.Group) -> None:
    main.add_command(config)


__all__ = ["register", "show_dict", "ConfigError"]
