"""Where things are found: precedence (option > environment > config file > checkout > user data folder),
the config file, `ncmec-qa config`, use from outside the checkout, the README's install, configuration and
shell-completion commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FAKE_MODEL, REPO, write_tiny_corpus

from ncmec_qa import schemas
from ncmec_qa.config import (
    CHECKOUT,
    CONFIG_FILE,
    DATA_DIR,
    DEFAULT,
    ENVIRONMENT,
    MANIFEST,
    OPTION,
    ConfigError,
    read_config,
    resolve_paths,
)

SRC = REPO / "src"
README = REPO / "README.md"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user whose config file and data folder are in tmp_path, with no NCMEC_QA_* variable but the config's."""
    for var in [v for v in os.environ if v.startswith("NCMEC_QA_")] + ["XDG_CONFIG_HOME", "XDG_DATA_HOME"]:
        monkeypatch.delenv(var, raising=False)
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    return h


def cfg_file(home: Path) -> Path:
    return home / ".config" / "ncmec-qa" / "config.toml"


def data(home: Path) -> Path:
    return home / ".local" / "share" / "ncmec-qa"


def cli(args, cwd: Path, input: str | None = None):
    """`ncmec-qa ARGS` in-process, run from `cwd`, with the environment as the test left it."""
    from ncmec_qa.cli.commands import main

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)


def error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- precedence ------------------------------------------------------------------------------------------


def test_each_source_wins_over_the_next(home, tmp_path):
    checkout = tmp_path / "checkout"
    write_tiny_corpus(checkout)
    inside = checkout / "docs"
    cfg = cfg_file(home)
    cfg.parent.mkdir(parents=True)
    cfg.write_text('corpus = "/from/file/sources.toml"\nindex = "/from/file/index"\n')

    p = resolve_paths(env={}, cwd=inside)  # env={}: the default config file of $HOME
    assert (p.manifest, p.origin("corpus")) == (Path("/from/file/sources.toml"), CONFIG_FILE)
    assert (p.index, p.origin("index")) == (Path("/from/file/index"), CONFIG_FILE)
    assert p.setting("corpus").detail == str(cfg)

    env = {"NCMEC_QA_CORPUS": "/from/env/sources.toml", "NCMEC_QA_INDEX": "/from/env/index"}
    p = resolve_paths(env=env, cwd=inside)
    assert (p.manifest, p.origin("corpus"), p.origin("index")) == (
        Path("/from/env/sources.toml"),
        ENVIRONMENT,
        ENVIRONMENT,
    )

    p = resolve_paths(corpus="/opt/sources.toml", index="/opt/index", env=env, cwd=inside)
    assert (p.manifest, p.index, p.origin("corpus"), p.origin("index")) == (
        Path("/opt/sources.toml"),
        Path("/opt/index"),
        OPTION,
        OPTION,
    )

    cfg.unlink()
    p = resolve_paths(env={}, cwd=inside)
    assert (p.manifest, p.index) == (checkout / "corpus" / "sources.toml", checkout / "index")
    assert p.origin("corpus") == p.origin("index") == CHECKOUT and p.checkout == checkout.resolve()
    assert p.origin("docs") == MANIFEST and p.docs is None and p.origin("model") == DEFAULT and p.model is None

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    p = resolve_paths(env={}, cwd=outside)
    assert (p.manifest, p.index) == (data(home) / "corpus" / "sources.toml", data(home) / "index")
    assert p.origin("corpus") == p.origin("index") == DATA_DIR and p.checkout is None
    assert p.default_docs == data(home) / "documents"


def test_config_file_paths_are_read_from_its_folder_and_model_kept_as_a_name(tmp_path):
    f = tmp_path / "conf" / "config.toml"
    f.parent.mkdir()
    f.write_text('corpus = "../corpus/sources.toml"\ndocs = "docs"\nmodel = "fake:64"\n')
    got = read_config(f)
    assert got == {
        "corpus": str(f.parent / "../corpus/sources.toml"),
        "docs": str(f.parent / "docs"),
        "model": "fake:64",
    }


def test_config_set_stores_paths_absolute_and_a_model_name_as_given(home, tmp_path):
    from ncmec_qa.config import config_value

    (tmp_path / "mymodel").mkdir()
    assert config_value("model", FAKE_MODEL, cwd=tmp_path) == FAKE_MODEL
    assert config_value("model", "mymodel", cwd=tmp_path) == str(tmp_path / "mymodel")  # an existing folder
    assert config_value("model", "~/models/m", cwd=tmp_path) == str(home / "models" / "m")
    assert config_value("docs", "../docs", cwd=tmp_path / "mymodel") == str(tmp_path / "docs")
    with pytest.raises(ConfigError, match=r"unknown setting 'colour' \(known: corpus, docs, index, model\)"):
        config_value("colour", "red")


def test_ncmec_qa_config_names_another_config_file(home, tmp_path, monkeypatch):
    other = tmp_path / "other.toml"
    other.write_text('index = "/x/index"\n')
    monkeypatch.setenv("NCMEC_QA_CONFIG", str(other))
    p = resolve_paths(cwd=tmp_path)
    assert (p.config_file, p.index, p.origin("index")) == (other, Path("/x/index"), CONFIG_FILE)


@pytest.mark.parametrize(
    "text, key_parts",
    [
        (
            'colour = "red"\n',
            ["unknown setting 'colour'", "known: corpus, docs, index, model", "remove it from the file"],
        ),
        ("corpus = [1, 2\n", ["not valid TOML", "`ncmec-qa config path`"]),
        ("index = 3\n", ["index must be a non-empty string, not 3", "`ncmec-qa config set index VALUE`"]),
    ],
)
def test_a_bad_config_file_is_one_line_naming_it_and_exit_2(home, tmp_path, text, key_parts):
    cfg = cfg_file(home)
    cfg.parent.mkdir(parents=True)
    cfg.write_text(text)
    with pytest.raises(ConfigError):
        resolve_paths(cwd=tmp_path)
    for args in (["config"], ["ask", "anything"], ["index", "path"]):
        r = cli(args, tmp_path)
        line = error_line(r)
        assert r.exit_code == 2, (args, r.stderr)
        assert line.startswith(f"Error: {cfg}: ")
        for part in key_parts:
            assert part in line, (part, line)
    r = cli(["config", "set", "index", str(tmp_path / "idx")], tmp_path)  # a wrong value can be replaced
    if "not valid TOML" in key_parts:
        assert r.exit_code == 2 and "not valid TOML" in r.stderr and cfg.read_text() == text
    else:
        assert r.exit_code == 0, r.stderr
        assert f'index = "{tmp_path / "idx"}"' in cfg.read_text()


# -- ncmec-qa config -------------------------------------------------------------------------------------


def test_config_set_unset_path_keep_comments_and_store_absolute_paths(home, tmp_path):
    cfg = cfg_file(home)
    work = tmp_path / "work"
    (work / "corpus").mkdir(parents=True)
    r = cli(["config", "path"], work)
    assert (r.exit_code, r.stdout) == (0, f"{cfg}\n")
    assert not cfg.exists()

    r = cli(["config", "set", "corpus", "corpus/sources.toml"], work)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"corpus = {work / 'corpus' / 'sources.toml'}  (set in {cfg})\n"
    assert f"note: {work / 'corpus' / 'sources.toml'} does not exist yet (the manifest (sources.toml))" in r.stderr
    cfg.write_text("# my settings\n" + cfg.read_text())
    r = cli(["config", "set", "model", FAKE_MODEL, "--json"], work)
    d = json.loads(r.stdout)
    assert d == {
        "schema_version": "1",
        "type": "config_setting",
        "key": "model",
        "value": FAKE_MODEL,
        "changed": True,
        "config_file": {"path": str(cfg), "exists": True, "origin": "default"},
    }
    assert not schemas.errors(d)
    assert cfg.read_text() == f'# my settings\ncorpus = "{work}/corpus/sources.toml"\nmodel = "fake:64"\n'
    r = cli(["config", "set", "model", FAKE_MODEL], work)
    assert r.stdout == f"model = {FAKE_MODEL}  (already so in {cfg})\n"

    r = cli(["config", "unset", "corpus"], work)
    assert (r.exit_code, r.stdout) == (0, f"corpus removed from {cfg}\n")
    r = cli(["config", "unset", "corpus", "--json"], work)
    d = json.loads(r.stdout)
    assert d["changed"] is False and d["type"] == "config_setting" and not schemas.errors(d)
    assert cfg.read_text() == '# my settings\nmodel = "fake:64"\n'


@pytest.mark.parametrize(
    "args, part",
    [
        (["config", "set", "colour", "red"], "'colour' is not one of 'corpus', 'docs', 'index', 'model'"),
        (["config", "unset", "colour"], "'colour' is not one of"),
        (["config", "set", "index", ""], "index must not be empty; `ncmec-qa config unset index` removes it"),
    ],
)
def test_config_set_refuses_what_is_not_a_setting(home, tmp_path, args, part):
    r = cli(args, tmp_path)
    assert r.exit_code == 2 and part in r.stderr, r.stderr
    assert not cfg_file(home).exists()


def test_config_show_says_where_each_setting_came_from(home, tmp_path, monkeypatch):
    corpus = write_tiny_corpus(tmp_path / "clone")
    outside = tmp_path / "outside"
    outside.mkdir()
    cli(["config", "set", "corpus", str(corpus.manifest_path)], outside)
    monkeypatch.setenv("NCMEC_QA_MODEL", FAKE_MODEL)
    r = cli(["--index", str(tmp_path / "idx"), "config"], outside)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"config file: {cfg_file(home)}",
        f"corpus:  {corpus.manifest_path}",
        f"           from config file {cfg_file(home)}",
        f"docs:    {corpus.docs}",
        f"           from the manifest: `documents = '../docs'` in {corpus.manifest_path}",
        f"index:   {tmp_path / 'idx'}  (does not exist)",
        "           from option --index",
        f"model:   {FAKE_MODEL}",
        "           from environment NCMEC_QA_MODEL",
    ]
    inside = cli(["config"], corpus.docs).stdout
    assert f"corpus:  {corpus.manifest_path}\n           from config file" in inside  # the file beats the checkout
    assert (
        f"index:   {corpus.root / 'index'}  (does not exist)\n           from checkout {corpus.root} "
        "(found from the working directory)"
    ) in inside


def test_config_json_shape(home, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    for args in (["config", "--json"], ["config", "show", "--json"]):
        d = json.loads(cli(args, outside).stdout)
        assert (d["schema_version"], d["type"]) == ("1", "config") and not schemas.errors(d)
        assert set(d) == {"schema_version", "type", "config_file", "settings", "checkout", "data_dir"}
        assert d["config_file"] == {"path": str(cfg_file(home)), "exists": False, "origin": "default"}
        assert (d["checkout"], d["data_dir"]) == (None, str(data(home)))
        assert list(d["settings"]) == ["corpus", "docs", "index", "model"]
        for key, s in d["settings"].items():
            assert set(s) == {"value", "origin", "detail", "option", "env", "exists"}, key
        assert d["settings"]["corpus"] == {
            "value": str(data(home) / "corpus" / "sources.toml"),
            "origin": "user data folder",
            "detail": str(data(home)),
            "option": "--corpus",
            "env": "NCMEC_QA_CORPUS",
            "exists": False,
        }
        assert d["settings"]["docs"]["value"] is None and d["settings"]["docs"]["origin"] == "manifest"
        assert d["settings"]["docs"]["exists"] is None
        assert d["settings"]["model"] == {
            "value": "all-MiniLM-L6-v2",
            "origin": "default",
            "detail": "the bundled all-MiniLM-L6-v2",
            "option": "index build --model",
            "env": "NCMEC_QA_MODEL",
            "exists": None,
        }
    d = json.loads(cli(["config", "path", "--json"], outside).stdout)
    assert d == {
        "schema_version": "1",
        "type": "config_path",
        "config_file": {"path": str(cfg_file(home)), "exists": False, "origin": "default"},
    }
    assert not schemas.errors(d)


# -- outside the checkout, in-process --------------------------------------------------------------------


def test_outside_a_checkout_the_errors_say_what_to_do_and_that_works(home, tmp_path):
    outside = tmp_path / "anywhere"
    outside.mkdir()
    manifest, index = data(home) / "corpus" / "sources.toml", data(home) / "index"
    r = cli(["ask", "How long is a widget report kept?"], outside)
    assert r.exit_code == 2
    assert error_line(r) == (
        f"Error: manifest not found: {manifest} (not in a checkout, and none configured); set the manifest with "
        "`ncmec-qa config set corpus PATH` or NCMEC_QA_CORPUS (`ncmec-qa config` shows where everything is), "
        f"then `ncmec-qa index build` builds the index at {index}"
    )

    corpus = write_tiny_corpus(tmp_path / "clone")
    assert cli(["config", "set", "corpus", str(corpus.manifest_path)], outside).exit_code == 0
    r = cli(["ask", "How long is a widget report kept?"], outside)
    assert r.exit_code == 3
    assert error_line(r) == f"Error: no index at {index}: run `ncmec-qa index build` first"
    r = cli(["index", "verify"], outside)
    assert (r.exit_code, error_line(r)) == (3, f"Error: no index at {index}: run `ncmec-qa index build` first")

    assert cli(["config", "set", "model", FAKE_MODEL], outside).exit_code == 0  # the build reads the model too
    r = cli(["-q", "index", "build"], outside)
    assert r.exit_code == 0, r.stderr
    meta = json.loads((index / "current" / "meta.json").read_text())
    assert meta["model"] == FAKE_MODEL
    r = cli(["ask", "--json", "How long does the registry keep every report?"], outside)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["question"] == "How long does the registry keep every report?"
    assert cli(["index", "path"], outside).stdout == f"{index}\n"


def test_missing_index_and_manifest_say_both(tmp_path):
    p = resolve_paths(corpus=tmp_path / "none.toml", index=tmp_path / "idx", env={"NCMEC_QA_CONFIG": "/nonexistent"})
    assert p.missing_index() == (
        f"no index at {tmp_path / 'idx'} and no manifest at {tmp_path / 'none.toml'}: set the manifest with "
        "`ncmec-qa config set corpus PATH` or NCMEC_QA_CORPUS (`ncmec-qa config` shows where everything is), "
        "then run `ncmec-qa index build`"
    )


def test_data_folder_manifest_without_documents_reads_the_data_folders_documents(home, tmp_path):
    from ncmec_qa.corpus.manifest import Manifest, save_manifest
    from ncmec_qa.workspace import Workspace

    m = data(home) / "corpus" / "sources.toml"
    save_manifest(Manifest(path=m, sources=()))
    outside = tmp_path / "o"
    outside.mkdir()
    old = Path.cwd()
    os.chdir(outside)
    try:
        ws = Workspace.open()
        assert (ws.paths.manifest, ws.docs_dir) == (m, data(home) / "documents")
    finally:
        os.chdir(old)


# -- the README's commands ---------------------------------------------------------------------------------


def readme_block(name: str) -> str:
    """The ```sh block after `<!-- readme-test: NAME ... -->` in the README."""
    m = re.search(rf"<!-- readme-test: {name}\b[^>]*-->\n```sh\n(.*?)```", README.read_text(), re.S)
    assert m, f"README has no block marked <!-- readme-test: {name} -->"
    return m.group(1)


def test_every_readme_test_marker_names_a_test_here():
    text = README.read_text()
    markers = re.findall(r"<!-- readme-test: (\w+) \(tests/test_config\.py::(\w+)", text)
    assert {m for m, _ in markers} == {"install", "config", "completion"}
    here = Path(__file__).read_text()
    for _, test in markers:
        assert f"def {test}(" in here, test


def wrapper_bin(tmp_path: Path) -> Path:
    """A bin/ folder whose `ncmec-qa` runs this checkout's code with this interpreter (as the console script)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    exe = bindir / "ncmec-qa"
    exe.write_text(
        f"#!/bin/sh\nexec '{sys.executable}' -c 'import sys; sys.argv[0] = \"ncmec-qa\"; "
        'from ncmec_qa.cli.commands import main; main()\' "$@"\n'
    )
    exe.chmod(0o755)
    return bindir


def shell_env(home: Path, bindir: Path, pythonpath: bool = True) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NCMEC_QA_") and k not in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "PYTHONPATH")
    }
    env.update(
        HOME=str(home),
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    if pythonpath:
        env["PYTHONPATH"] = str(SRC)
    return env


def run_block(name: str, cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    r = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_block(name)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, f"README block {name!r} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def check_configuration_block(home: Path, env: dict[str, str]) -> None:
    """The README's configuration commands, from $HOME (outside any checkout), over a tiny corpus in
    ~/ncmec-qa and the fake embedder (named in the config file before the block runs)."""
    write_tiny_corpus(home / "ncmec-qa")
    cfg_file(home).parent.mkdir(parents=True, exist_ok=True)
    cfg_file(home).write_text(f'model = "{FAKE_MODEL}"  # the tests\' embedder\n')
    r = run_block("config", home, env)
    out = r.stdout
    assert "The corpus does not answer this question" in out and "\n1. tiny-" in out, out  # quoted from its index
    assert (
        f"corpus:  {home / 'ncmec-qa' / 'corpus' / 'sources.toml'}\n           from config file {cfg_file(home)}" in out
    ), out
    assert (
        f"index:   {data(home) / 'index'}\n           from user data folder {data(home)} (not in a checkout, "
        "and no index configured)" in out
    ), out
    assert f"model:   {FAKE_MODEL}\n           from config file" in out, out
    assert json.loads((data(home) / "index" / "current" / "meta.json").read_text())["model"] == FAKE_MODEL


def test_readme_configuration_from_outside_the_checkout(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    check_configuration_block(home, shell_env(home, wrapper_bin(tmp_path)))


def test_readme_completion_scripts(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = shell_env(home, wrapper_bin(tmp_path))
    run_block("completion", home, env)
    bash = (home / ".ncmec-qa-complete.bash").read_text()
    assert "_ncmec_qa_completion()" in bash and "complete -o nosort -F _ncmec_qa_completion ncmec-qa" in bash
    assert "#compdef ncmec-qa" in (home / ".ncmec-qa-complete.zsh").read_text()
    assert "complete --no-files --command ncmec-qa" in (home / ".config/fish/completions/ncmec-qa.fish").read_text()

    def complete(words: str) -> list[str]:
        script = (
            f". {home}/.ncmec-qa-complete.bash\nCOMP_WORDS=({words})\nCOMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n"
            "_ncmec_qa_completion ncmec-qa\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
        )
        r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert complete("ncmec-qa conf") == ["config"]
    assert complete("ncmec-qa config s") == ["set", "show"]
    assert complete("ncmec-qa index b") == ["build"]
    assert complete("ncmec-qa config set i") == ["index"]


@pytest.mark.slow
def test_readme_install_in_a_clean_venv(tmp_path):
    """The README's pip install in a new venv (no site-packages, no --no-deps: every dependency installed),
    then its configuration commands from outside the checkout with the installed `ncmec-qa` only."""
    home = tmp_path / "home"
    home.mkdir()
    clone = home / "ncmec-qa"
    anywhere = shutil.ignore_patterns("*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".work")

    def ignore(folder: str, names: list[str]) -> set[str]:  # the checkout's index/ and build/, not src/ncmec_qa/index/
        top = {".git", ".venv", "index", "build"} if Path(folder) == REPO else set()
        return set(anywhere(folder, names)) | (top & set(names))

    shutil.copytree(REPO, clone, ignore=ignore)
    venv_bin = home / ".venvs" / "ncmec-qa" / "bin"
    env = shell_env(home, venv_bin, pythonpath=False)
    env.pop("VIRTUAL_ENV", None)
    t0 = time.perf_counter()
    run_block("install", home, env, timeout=1200)
    seconds = time.perf_counter() - t0
    print(f"clean venv install: {seconds:.0f} s")
    r = subprocess.run(
        [
            str(venv_bin / "python"),
            "-c",
            "import ncmec_qa, platformdirs, torch; print(ncmec_qa.__file__); print(torch.__version__)",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=home,
    )
    assert r.returncode == 0, r.stderr
    installed, torch_version = r.stdout.split()
    assert installed.startswith(str(home / ".venvs")), installed  # the installed copy, not the checkout
    assert torch_version == "2.13.0+cpu"
    shutil.rmtree(clone / "corpus")  # the configuration block's manifest is the tiny corpus
    check_configuration_block(home, env)


def test_readme_error_examples_are_what_the_commands_say(tmp_path):
    """The README's console block of errors outside a checkout, run in a home of its own (/home/me there)."""
    block = re.search(
        r"```console\n(\$ ncmec-qa ask [^\n]*\nError: manifest not found.*?)```", README.read_text(), re.DOTALL
    )
    assert block, "README lacks the console block of errors outside a checkout"
    home = tmp_path / "home"
    home.mkdir()
    write_tiny_corpus(home / "ncmec-qa")
    env = shell_env(home, wrapper_bin(tmp_path))
    steps = re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", block.group(1), re.M)
    assert [s[0].split()[1] for s in steps] == ["ask", "config"]
    for (command, said), status in zip(steps, (2, 3)):
        r = subprocess.run(["bash", "-c", command], cwd=home, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == status, (command, r.stderr)
        assert r.stderr == said.replace("/home/me", str(home)), command
