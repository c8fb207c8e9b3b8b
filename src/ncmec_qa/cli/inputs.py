"""What the commands take from the user: question lines and articles on stdin, source ids, empty arguments, a closed stdout."""

from __future__ import annotations

import os
import sys

import click

from ..errors import NcmecQaError

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what the shell reports for a tool ended by SIGPIPE (`yes | head -1`)


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing what is still buffered at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests' CliRunner): nothing to flush into
        pass


def check_source_ids(ws, sources=(), exclude=()) -> None:
    """Refuse a --source/--exclude-source id the manifest does not have, naming it and the known ids."""
    import difflib

    known = [s.id for s in ws.manifest.sources]
    for option, ids in (("--source", sources), ("--exclude-source", exclude)):
        for sid in ids:
            if sid not in known:
                near = difflib.get_close_matches(sid, known, n=1)
                hint = f"did you mean {near[0]!r}? " if near else ""
                raise NcmecQaError(
                    f"{option} {sid!r}: no source with this id in {ws.paths.manifest}; {hint}"
                    f"known ids: {', '.join(known) or '(none)'}"
                )


def nonempty(text: str | None, what: str, how: str) -> None:
    """An argument given as "" (or only spaces) is a mistake, never a request to read stdin."""
    if text is not None and not text.strip():
        raise NcmecQaError(f"the {what} is empty; {how}")


def read_questions(question: str | None, prompt: str = "question> "):
    """The one question (or claim) given, or lines read one by one from stdin: (line, None), or (None, the
    one-line error) for a line that is not UTF-8 text, so that the session goes on with the next line."""
    if question and question != "-":
        yield question, None
        return
    interactive = sys.stdin.isatty()
    raw = getattr(sys.stdin, "buffer", None)  # bytes, decoded line by line: one bad line loses no other
    n = 0
    while True:
        if interactive:
            click.echo(prompt, nl=False, err=True)
        line = raw.readline() if raw is not None else sys.stdin.readline()
        if not line:
            return
        n += 1
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                yield (
                    None,
                    (
                        f"stdin line {n} is not UTF-8 text (byte 0x{line[e.start]:02x} at position "
                        f"{e.start + 1}); skipped it"
                    ),
                )
                continue
        if line.strip():
            yield line.strip(), None


def read_text_arg(path, what: str = "article") -> tuple[str, str]:
    """The text of a file the user named, or of stdin when it is "-": (text, the name to show for it).
    Bytes that are not UTF-8 are replaced (U+FFFD), as for a file; a leading BOM is dropped."""
    if str(path) == "-":
        if sys.stdin.isatty():
            click.echo(f"reading the {what} from stdin (end it with Ctrl-D)", err=True)
        raw = getattr(sys.stdin, "buffer", None)
        data = raw.read() if raw is not None else sys.stdin.read().encode("utf-8")
        return data.decode("utf-8-sig", errors="replace"), "<stdin>"
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8-sig", errors="replace"), str(path)
    except OSError as e:
        raise NcmecQaError(f"cannot read the {what} {path}: {e.strerror or e}; check the path and its permissions")
