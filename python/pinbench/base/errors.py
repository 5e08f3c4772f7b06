"""The errors pinbench shows to a user: one line each, with the exit code they map to.

A message is one sentence of at most ``MAX_LINE`` characters once the CLI has put its
``pinbench: error:`` before it (``gist`` abridges what an engine said); the full text, when it
was abridged, is the error's ``detail``: ``--debug`` prints it and the JSON keeps it.
"""

from __future__ import annotations

import re

MAX_LINE = 200  # characters of the last line the CLI prints for an error, its prefix included
MESSAGE_ROOM = MAX_LINE - len("pinbench: error: ")  # what is left for the message itself

# Noise engines put in their messages: C++ source locations, with the function's signature
# (ONNX Runtime: "/onnxruntime_src/.../model.cc:181 void onnxruntime::Model::Load(const
# std::string&) ") or the check that failed (OpenVINO: "Exception from src/.../core.cpp:84:
# Check 'false' failed at src/.../report.cpp:151: ").
_SOURCE_LOCATION = re.compile(
    r"(?:Exception from |Check '[^']*' failed at )?"
    r"[\w.+\\/-]*[\\/][\w.+-]+\.(?:cc|cpp|cxx|c|h|hpp):\d+"
    r"(?::|\s+(?:[\w:~<>,*&\[\] ]*?\([^()]*(?:\([^()]*\)[^()]*)*\)(?:\s*const)?"
    r"(?:::<lambda\(\)>)?(?=\s))?)"
)
# A C++ symbol left in a message (glibc's "locale::facet::_S_create_c_locale"): two or more
# "::" name a function inside a library, never what the user should change.
_CPP_SYMBOL = re.compile(r"\b~?[A-Za-z_]\w*(?:::~?[A-Za-z_]\w*){2,}(?:\([^()]*\))?")
# "name:value:next" as C++ libraries glue their clauses; read as "name: value: next", in a text
# that carried C++ source locations or symbols only (pinbench's own messages are never rewritten:
# "ray://HOST:PORT", "slurm:local"). Only after a word of 4 letters or more or a version's digit
# ("UTF-8:"), so that "hf:org/x", "zoo:..." and "file.py:Class" stay whole, and never inside
# quotes (see _unglue).
_GLUED_COLON = re.compile(r"(?:(?<=[A-Za-z]{4})|(?<=-\d))\s*:(?=[A-Za-z\[])")
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\")")
# Where a message may be cut: after a sentence, or a clause that ends in ":" before a capital
# ("... name: xx_XX.UTF-8" stays whole, "...: Please, install ..." starts a new clause).
_BREAK = re.compile(r"(?<=[.;!?])\s+|(?<=:)\s+(?=[A-Z])")
MORE = "(--debug for the whole text)"  # ends a line that was shortened


class PinbenchError(Exception):
    """A failure that the CLI prints as one line, without a traceback.

    ``exit_code`` is 2 for usage errors (the request cannot be satisfied as written) and 1 for
    failures at run time. ``detail`` is the full text the message abridges (an engine's own
    error), or None when the message says it all.
    """

    exit_code = 1
    phase: str | None = None  # how far the run had got (``pinbench.phase_reached``), when known

    def __init__(self, message: str = "", *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class UsageError(PinbenchError, ValueError):
    """The request is wrong as written: a bad flag value, a missing file, an impossible plan."""

    exit_code = 2


class RunError(PinbenchError, RuntimeError):
    """The request was valid but the run failed: the engine refused the model or the inputs."""

    exit_code = 1


class Interrupted(KeyboardInterrupt):
    """A signal ended a run between the runner's waits (a probe or a trial of a search stopped
    early), raised like Ctrl-C. ``interrupt`` names what the runner caught
    ("KeyboardInterrupt", or the CLI's "Terminated" for SIGTERM), ``phase`` how far the run got.
    """

    def __init__(self, interrupt: str | None, phase: str) -> None:
        self.interrupt = interrupt or "KeyboardInterrupt"
        self.phase = phase
        super().__init__(self.interrupt)


def one_line(e: BaseException) -> str:
    """An exception's message on one line; its type's name when it has no message.

    >>> one_line(ValueError("two\\nlines"))
    'two lines'
    """
    return " ".join(str(e).split()) or type(e).__name__


def shorten(e: BaseException | str, limit: int = 300) -> str:
    """``one_line`` of an exception (or a text), cut to ``limit`` characters with an ellipsis.

    >>> shorten("x" * 10, limit=5)
    'xxxx…'
    """
    text = one_line(e) if isinstance(e, BaseException) else " ".join(e.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def gist(text: BaseException | str, limit: int = MAX_LINE) -> str:
    """The gist of a message on one line, at most ``limit`` characters: C++ source locations,
    signatures and symbols dropped; then, when it is still too long, whole sentences and clauses
    from the start while they fit (else cut at a word with an ellipsis), and
    ``(--debug for the whole text)`` at the end, so a reader knows there is more.

    >>> gist("Load failed:/src/graph/model.cc:181 void Model::Load(const std::string&) Bad opset.")
    'Load failed: Bad opset.'
    >>> gist("--cluster 'x': expected ray, ray://HOST:PORT, slurm or slurm:local")
    "--cluster 'x': expected ray, ray://HOST:PORT, slurm or slurm:local"
    >>> gist("First sentence here. A second one, which goes on and on.", limit=55)
    'First sentence here. (--debug for the whole text)'
    """
    raw = one_line(text) if isinstance(text, BaseException) else " ".join(text.split())
    shortened = raw.endswith(MORE)  # a gist of a gist: cut again, and still say so
    if shortened:
        raw = raw[: -len(MORE)].rstrip()
    clean = _CPP_SYMBOL.sub(" ", _SOURCE_LOCATION.sub(" ", raw))
    if clean != raw:  # a C++ library's text: its clauses are glued too ("name:en_US.UTF-8:...")
        clean = _unglue(clean)
    clean = " ".join(re.sub(r"\s+:", ":", clean).split())
    if len(clean) <= limit and not shortened:
        return clean
    room = limit - len(MORE) - 1
    if len(clean) <= room:
        return f"{clean} {MORE}"
    kept = ""
    for piece in _BREAK.split(clean):
        candidate = f"{kept} {piece}".strip()
        if len(candidate) > room:
            break
        kept = candidate
    if not kept:
        kept = clean[: room - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"{kept.rstrip(':;,')} {MORE}"


def _unglue(text: str) -> str:
    """``_GLUED_COLON`` read as ": " outside quoted names."""
    parts = _QUOTED.split(text)
    return "".join(p if k % 2 else _GLUED_COLON.sub(": ", p) for k, p in enumerate(parts))
