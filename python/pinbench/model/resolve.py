"""Resolve a model spec to an ONNX file on disk.

A model spec is one of:

- a path to an ``.onnx`` file, or to a folder holding ``model.onnx``;
- a built-in name (see ``BUILTIN_MODELS``): the small "light" models shipped in the ``onnx``
  package's test data; ``light_squeezenet`` (the file's stem) is accepted as well. An existing
  file or folder of the same name wins over a built-in name;
- ``zoo:<stub>``: a SparseZoo stub, through the optional ``sparsezoo`` package (1.8.1, the last
  release; its analytics and version check are turned off before it is imported). SparseZoo
  finds a stub only through its server: offline, a stub is a usage error that says so;
- ``hf:<org>/<repo>`` or ``hf:<org>/<repo>/<path/in/repo.onnx>``: a file in a Hugging Face model
  repository, through the optional ``huggingface_hub`` package and its own cache (so
  ``HF_HOME``, ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` apply). Without a path, ``model.onnx`` is
  used, else the only ``.onnx`` file of the repository. External data files the model names are
  fetched too. The hub is asked once, without retries, whether it can be reached; when it
  cannot (or ``HF_HUB_OFFLINE`` is set), only the cache is read, and a model the cache lacks is
  a usage error at once.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from ..base.errors import RunError, UsageError, gist, one_line, shorten
from ..base.system import quiet_neural_magic
from .graph import external_locations_of_file

MODEL_FILE = "model.onnx"
REMOTE = ("zoo:", "hf:")  # fetched into a cache when a run loads them

# Short name -> file in onnx/backend/test/data/light/ (shipped with the onnx wheel).
BUILTIN_MODELS: dict[str, str] = {
    "alexnet": "light_bvlc_alexnet.onnx",
    "densenet121": "light_densenet121.onnx",
    "inception_v1": "light_inception_v1.onnx",
    "inception_v2": "light_inception_v2.onnx",
    "resnet50": "light_resnet50.onnx",
    "shufflenet": "light_shufflenet.onnx",
    "squeezenet": "light_squeezenet.onnx",
    "vgg19": "light_vgg19.onnx",
    "zfnet512": "light_zfnet512.onnx",
}


def builtin_model_path(name: str) -> Path | None:
    """The file of a built-in model name, or None if ``name`` is not one.

    Accepts the short names of ``BUILTIN_MODELS`` and the files' stems (``light_squeezenet``).

    >>> builtin_model_path("squeezenet").name
    'light_squeezenet.onnx'
    """
    key = name.strip().lower().removesuffix(".onnx")
    for short, filename in BUILTIN_MODELS.items():
        stem = filename[: -len(".onnx")]
        if key in (short, stem, f"light_{short}", stem.removeprefix("light_")):
            return _light_dir() / filename
    return None


def _light_dir() -> Path:
    # Found without importing onnx (about a second, most of it ml_dtypes): its package folder.
    import importlib.util

    found = importlib.util.find_spec("onnx")
    origin = found.origin if found is not None else None
    if origin is None:
        raise UsageError("the built-in models ship with the onnx package, which is not installed")
    return Path(origin).parent / "backend" / "test" / "data" / "light"


def resolve_model_path(spec: str) -> Path:
    """The ONNX file that ``spec`` names (file, folder, built-in name, ``zoo:``, ``hf:``).

    Raises UsageError when nothing matches, RunError when a remote model cannot be fetched.

    >>> resolve_model_path("squeezenet").name
    'light_squeezenet.onnx'
    """
    if spec.startswith("zoo:"):
        return _resolve_zoo(spec)
    if spec.startswith("hf:"):
        return _resolve_hf(spec)
    if not spec.strip():
        raise UsageError("no model given; pass an .onnx file, a folder, or a built-in name")
    path = Path(spec).expanduser()
    if path.is_dir():
        return _model_in_folder(spec, path)
    if path.exists():
        return path
    builtin = builtin_model_path(spec)
    if builtin is not None:
        if not builtin.is_file():
            raise UsageError(
                f"built-in model {spec!r} is not shipped with the installed onnx package "
                f"({builtin.name} missing); pass an .onnx file instead"
            )
        return builtin
    if os.sep in spec or "/" in spec or spec.endswith(".onnx"):
        raise UsageError(f"model file {spec!r} not found")
    names = ", ".join(BUILTIN_MODELS)
    raise UsageError(
        f"model {spec!r} not found: not a file, a folder, or a built-in model ({names})"
    )


def _model_in_folder(spec: str, folder: Path) -> Path:
    candidate = folder / MODEL_FILE
    if candidate.is_file():
        return candidate
    others = sorted(p.name for p in folder.glob("*.onnx"))
    if others:
        listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise UsageError(
            f"folder {spec!r} has no {MODEL_FILE}; pass one of its .onnx files instead ({listed})"
        )
    raise UsageError(f"folder {spec!r} has no {MODEL_FILE} and no other .onnx file")


def _resolve_zoo(spec: str) -> Path:
    quiet_neural_magic()
    try:
        from sparsezoo import Model
    except ImportError:
        raise UsageError(
            f"model {spec!r} is a SparseZoo stub, which needs the sparsezoo package (1.8.1, "
            "Python 3.8-3.11): pip install 'pinbench[zoo]'"
        ) from None
    try:
        model = Model(spec)
        try:
            # The deployment folder holds the file DeepSparse itself runs.
            path = model.deployment.get_file(MODEL_FILE).path
        except Exception:
            path = model.onnx_model.path
    except Exception as exc:
        if _unreachable(exc):
            # Kept short: a stub alone takes half of the line.
            raise UsageError(
                f"model {spec!r}: SparseZoo cannot reach its server, which every stub needs; go "
                "online or give the model's folder",
                detail=one_line(exc),
            ) from exc
        raise RunError(
            f"model {spec!r}: SparseZoo could not provide it: {gist(exc, 100)}",
            detail=one_line(exc),
        ) from exc
    return Path(str(path))


def _unreachable(exc: BaseException) -> bool:
    """True when a connection (or its timeout) failed somewhere in ``exc``'s chain."""
    names = {"ConnectionError", "ConnectTimeout", "ConnectError", "Timeout", "ReadTimeout"}
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(cls.__name__ in names for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


def _parse_hf_spec(spec: str) -> tuple[str, str | None]:
    """``hf:org/repo[/path.onnx]`` -> (repo id, path in the repo or None)."""
    parts = [p for p in spec[len("hf:") :].strip().split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise UsageError(f"model {spec!r}: expected hf:<org>/<repo> or hf:<org>/<repo>/<file.onnx>")
    # "hf:gpt2/model.onnx" names a file in a repo without an owner.
    if len(parts) == 2 and parts[1].endswith(".onnx"):
        return parts[0], parts[1]
    repo_id = "/".join(parts[:2])
    rest = "/".join(parts[2:])
    return repo_id, rest or None


class _HubUnreachable(UsageError):
    """The file is not cached and the hub cannot be asked (offline, or no connection): as a
    missing model file, a usage error."""


# How long the one reachability check of the hub may take (it has no retries).
HUB_PROBE_SECONDS = 5.0


def _hub_unreachable() -> str | None:
    """Why the hub cannot be asked (``HF_HUB_OFFLINE``, or no connection), or None when it can:
    one HEAD request to the hub's endpoint through huggingface_hub's own session (so its proxy
    settings apply), without the retries its downloads make (six, over about 24 s)."""
    from huggingface_hub import constants, get_session

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    try:
        get_session().head(constants.ENDPOINT, timeout=HUB_PROBE_SECONDS)
    except Exception as exc:
        return f"{constants.ENDPOINT} does not answer ({type(exc).__name__})"
    return None


class _NoSuchFile(UsageError):
    """The hub answered that the repository has no such file."""


def _hf_fetch(spec: str, repo_id: str, filename: str, offline: str | None) -> Path:
    """The file from the hub (or its cache); only the cache when ``offline`` says why."""
    from huggingface_hub import hf_hub_download

    try:
        from huggingface_hub import errors
    except ImportError:  # huggingface_hub < 0.23 keeps them in utils
        from huggingface_hub import utils as errors  # type: ignore[no-redef]

    # Order matters: LocalEntryNotFoundError subclasses EntryNotFoundError, and
    # GatedRepoError subclasses RepositoryNotFoundError.
    try:
        local = offline is not None
        path = hf_hub_download(repo_id=repo_id, filename=filename, local_files_only=local)
        return Path(str(path))
    except errors.LocalEntryNotFoundError as exc:
        raise _HubUnreachable(
            f"model {spec!r}: not in the Hugging Face cache, and {offline or 'no connection'}; "
            "fetch it once online, or set HF_HOME to a cache that holds it",
            detail=one_line(exc),
        ) from exc
    except errors.GatedRepoError as exc:
        raise UsageError(
            f"model {spec!r}: repository {repo_id!r} is gated; accept its terms on the hub "
            "and set HF_TOKEN"
        ) from exc
    except errors.RepositoryNotFoundError as exc:
        raise UsageError(
            f"model {spec!r}: no repository {repo_id!r} on the Hugging Face hub "
            "(if it is private, set HF_TOKEN)"
        ) from exc
    except errors.RevisionNotFoundError as exc:
        raise UsageError(f"model {spec!r}: {shorten(exc)}") from exc
    except errors.EntryNotFoundError as exc:
        raise _NoSuchFile(
            f"model {spec!r}: repository {repo_id!r} has no file {filename!r}"
        ) from exc
    except errors.HfHubHTTPError as exc:
        raise RunError(f"model {spec!r}: the Hugging Face hub failed: {shorten(exc)}") from exc
    except ValueError as exc:  # HFValidationError: a malformed repo id
        raise UsageError(f"model {spec!r}: {shorten(exc)}") from exc
    except OSError as exc:
        raise RunError(f"model {spec!r}: cannot fetch {filename!r}: {shorten(exc)}") from exc


def _hf_repo_onnx_files(spec: str, repo_id: str, offline_error: UsageError | None) -> list[str]:
    """The ``.onnx`` files of a repository: from the cache when offline, else from the hub."""
    if offline_error is not None:
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(repo_id=repo_id, local_files_only=True))
        except Exception:
            raise offline_error from None
        found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.onnx"))
        if not found:  # the hub may hold some that were never fetched
            raise offline_error
        return found
    from huggingface_hub import HfApi

    try:
        files = HfApi().list_repo_files(repo_id=repo_id)
    except Exception as exc:
        raise RunError(f"model {spec!r}: cannot list the repository: {shorten(exc)}") from exc
    return sorted(f for f in files if f.endswith(".onnx"))


def _resolve_hf(spec: str) -> Path:
    repo_id, filename = _parse_hf_spec(spec)
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        raise UsageError(
            f"model {spec!r} is on the Hugging Face hub, which needs the huggingface_hub "
            "package: pip install 'pinbench[hf]'"
        ) from None
    offline = _hub_unreachable()
    if filename is None:
        try:
            filename = MODEL_FILE
            path = _hf_fetch(spec, repo_id, filename, offline)
        except (_HubUnreachable, _NoSuchFile) as exc:
            unreachable = exc if isinstance(exc, _HubUnreachable) else None
            found = _hf_repo_onnx_files(spec, repo_id, unreachable)
            if len(found) != 1:
                if not found:
                    raise UsageError(f"model {spec!r}: repository has no .onnx file") from None
                listed = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
                raise UsageError(
                    f"model {spec!r}: repository has no {MODEL_FILE} and several .onnx files "
                    f"({listed}); name one, e.g. hf:{repo_id}/{found[0]}"
                ) from None
            filename = found[0]
            path = _hf_fetch(spec, repo_id, filename, offline)
    else:
        path = _hf_fetch(spec, repo_id, filename, offline)
    folder = posixpath.dirname(filename)
    for location in external_locations_of_file(path):
        _hf_fetch(spec, repo_id, posixpath.normpath(posixpath.join(folder, location)), offline)
    return path
