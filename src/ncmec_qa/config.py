"""Where things live (manifest, documents, index, model) and which source decided each.

Precedence, per setting: the command-line option, then the environment variable, then the config
file (`config.toml` in the user config folder, or NCMEC_QA_CONFIG), then the checkout found from the
working directory (its `corpus/sources.toml` and `index/`), then the user data folder.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .errors import NcmecQaError

APP = "ncmec-qa"
ENV_CONFIG = "NCMEC_QA_CONFIG"
ENV_CORPUS = "NCMEC_QA_CORPUS"
ENV_DOCS = "NCMEC_QA_DOCS"
ENV_INDEX = "NCMEC_QA_INDEX"
ENV_MODEL = "NCMEC_QA_MODEL"
MANIFEST_RELPATH = Path("corpus") / "sources.toml"

KEYS = ("corpus", "docs", "index", "model")
ENV_OF = {"corpus": ENV_CORPUS, "docs": ENV_DOCS, "index": ENV_INDEX, "model": ENV_MODEL}
OPTION_OF = {"corpus": "--corpus", "docs": "--docs", "index": "--index", "model": "index build --model"}
PATH_KEYS = frozenset({"corpus", "docs", "index"})
DESCRIBE = {
    "corpus": "the manifest (sources.toml)",
    "docs": "the documents folder",
    "index": "the index folder",
    "model": "the embedding model for builds",
}

# where a setting came from (`ncmec-qa config` prints it; `--json` carries it as `origin`)
OPTION, ENVIRONMENT, CONFIG_FILE, CHECKOUT, DATA_DIR, MANIFEST, DEFAULT = (
    "option",
    "environment",
    "config file",
    "checkout",
    "user data folder",
    "manifest",
    "default",
)


class ConfigError(NcmecQaError):
    """The config file cannot be read or holds something it should not (exit 2)."""


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file: NCMEC_QA_CONFIG, else config.toml in the user config folder (platformdirs)."""
    environ: Mapping[str, str] = os.environ if env is None else env
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG]).expanduser()
    import platformdirs

    return platformdirs.user_config_path(APP) / "config.toml"


def data_dir() -> Path:
    """The user data folder (platformdirs; XDG_DATA_HOME on Linux): the index and manifest outside a checkout."""
    import platformdirs

    return platformdirs.user_data_path(APP)


def find_checkout(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` that holds corpus/sources.toml."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / MANIFEST_RELPATH).is_file():
            return d
    return None


def read_config(path: Path) -> dict[str, str]:
    """The settings of a config file (none when it does not exist); paths made absolute from its folder."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}; fix it or remove it (`ncmec-qa config path` names it)") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file: {e.strerror or e}") from e
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
            f" (known: {', '.join(KEYS)}); remove it from the file"
        )
    out = {}
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{path}: {key} must be a non-empty string, not {value!r}; "
                f"set it with `ncmec-qa config set {key} VALUE`"
            )
        if key in PATH_KEYS or (key == "model" and value.startswith(("~", ".", "/"))):
            value = str(path.parent / Path(value).expanduser())
        out[key] = value
    return out


def config_value(key: str, value: str, cwd: Path | None = None) -> str:
    """What `config set KEY VALUE` stores: paths absolute (as typed in a shell, from the working directory)."""
    if key not in KEYS:
        raise ConfigError(f"unknown setting {key!r} (known: {', '.join(KEYS)})")
    if not value.strip():
        raise ConfigError(f"{key} must not be empty; `ncmec-qa config unset {key}` removes it")
    p = (cwd or Path.cwd()) / Path(value).expanduser()
    if key in PATH_KEYS or (key == "model" and (p.exists() or value.startswith(("~", ".", "/")))):
        return str(p.resolve())
    return value


def write_setting(path: Path, key: str, value: str | None) -> bool:
    """Set (or with None remove) one setting in the config file, keeping its comments. True when it changed."""
    import tomlkit

    if key not in KEYS:
        raise ConfigError(f"unknown setting {key!r} (known: {', '.join(KEYS)})")
    try:  # a setting of the wrong type can be replaced here; a file that does not parse is left alone
        doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}; fix it or remove it") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file: {e.strerror or e}") from e
    if value is None:
        if key not in doc:
            return False
        del doc[key]
    else:
        if doc.get(key) == value:
            return False
        doc[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot write the config file: {e.strerror or e} (set {ENV_CONFIG} to a file you can write)"
        ) from e
    return True


@dataclass(frozen=True)
class Setting:
    key: str
    value: str | None  # None: not set (docs: the manifest's `documents`; model: the bundled one)
    origin: str  # option, environment, config file, checkout, user data folder, manifest, default
    detail: str = ""  # the option, variable, file or folder that decided it

    def to_dict(self) -> dict[str, str | None]:
        return {
            "value": self.value,
            "origin": self.origin,
            "detail": self.detail,
            "option": OPTION_OF[self.key],
            "env": ENV_OF[self.key],
        }


@dataclass(frozen=True)
class Paths:
    manifest: Path
    index: Path
    docs: Path | None  # None: take the manifest's own `documents` setting
    model: str | None = None  # the embedding model for builds (None: the bundled one)
    default_docs: Path | None = None  # documents of a manifest in the user data folder that names none
    settings: tuple[Setting, ...] = ()
    config_file: Path | None = None
    checkout: Path | None = None

    def setting(self, key: str) -> Setting | None:
        return next((s for s in self.settings if s.key == key), None)

    def origin(self, key: str) -> str:
        s = self.setting(key)
        return s.origin if s else OPTION

    def missing_index(self) -> str:
        """What to do when there is no index: build it, after naming a manifest when there is none either."""
        if self.manifest.is_file():
            return f"no index at {self.index}: run `ncmec-qa index build` first"
        return (
            f"no index at {self.index} and no manifest at {self.manifest}: {SET_CORPUS_HINT}, "
            "then run `ncmec-qa index build`"
        )

    def missing_manifest(self) -> str:
        why = {CHECKOUT: "the checkout's", DATA_DIR: "not in a checkout, and none configured"}.get(
            self.origin("corpus"), f"from the {self.origin('corpus')}"
        )
        return (
            f"manifest not found: {self.manifest} ({why}); {SET_CORPUS_HINT}, then `ncmec-qa index build` "
            f"builds the index at {self.index}"
        )


SET_CORPUS_HINT = (
    f"set the manifest with `ncmec-qa config set corpus PATH` or {ENV_CORPUS} "
    "(`ncmec-qa config` shows where everything is)"
)


def _pick(key: str, option, env: dict[str, str], filed: dict[str, str], cfg: Path) -> Setting | None:
    if option not in (None, ""):
        return Setting(key, str(option), OPTION, OPTION_OF[key])
    if env.get(ENV_OF[key]):
        return Setting(key, env[ENV_OF[key]], ENVIRONMENT, ENV_OF[key])
    if key in filed:
        return Setting(key, filed[key], CONFIG_FILE, str(cfg))
    return None


def _value(s: Setting) -> str:
    """The value of a setting that always has one (the manifest's and the index's)."""
    assert s.value is not None, s
    return s.value


def resolve_paths(
    corpus: str | os.PathLike[str] | None = None,
    index: str | os.PathLike[str] | None = None,
    docs: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    model: str | None = None,
) -> Paths:
    """Each setting from the first source that gives it: option, environment, config file, checkout, data folder."""
    env = dict(os.environ) if env is None else env
    cfg = config_path(env)
    filed = read_config(cfg)
    checkout = find_checkout(cwd)
    # where the manifest and index are when nothing names them: the checkout, else the user data folder
    home: Path | None = None
    if checkout is not None:
        root, root_origin = checkout, CHECKOUT
    else:
        home = root = data_dir()
        root_origin = DATA_DIR

    corpus_s = _pick("corpus", corpus, env, filed, cfg) or Setting(
        "corpus", str(root / MANIFEST_RELPATH), root_origin, str(root)
    )
    manifest = Path(_value(corpus_s)).expanduser()
    if manifest.is_dir():
        manifest = manifest / "sources.toml"
    index_s = _pick("index", index, env, filed, cfg) or Setting("index", str(root / "index"), root_origin, str(root))
    docs_s = _pick("docs", docs, env, filed, cfg) or Setting("docs", None, MANIFEST, str(manifest))
    model_s = _pick("model", model, env, filed, cfg) or Setting("model", None, DEFAULT, "the bundled all-MiniLM-L6-v2")
    default_docs = home / "documents" if home is not None and corpus_s.origin == DATA_DIR else None
    return Paths(
        manifest=manifest,
        index=Path(_value(index_s)).expanduser(),
        docs=Path(docs_s.value).expanduser() if docs_s.value else None,
        model=model_s.value,
        default_docs=default_docs,
        settings=(corpus_s, docs_s, index_s, model_s),
        config_file=cfg,
        checkout=checkout,
    )
