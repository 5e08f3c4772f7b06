#!/usr/bin/env python3
"""pinbench against deepsparse.benchmark and hand-written ONNX Runtime loops, in one run.

Contenders, each measured as items/sec with the same model, streams, cores, warmup and time:

- ``deepsparse async``: ``deepsparse.benchmark -e onnxruntime -s async`` from
  ``deepsparse[onnxruntime]==1.8.0``, installed in a virtual environment of its own;
- ``ideal loop``: one Python thread per stream, pinned to its own CPUs, each with its own
  single-thread ``InferenceSession`` created on that thread, inputs bound once, looping
  ``run_with_iobinding``: the best a hand-written async benchmark can do;
- ``plain ORT loop``: one session using all the cores, one thread: the sync baseline;
- ``pinbench async`` and ``pinbench sync``: the ``pinbench`` command;

and, for the DeepSparse engine itself (``--engines deepsparse``):

- ``deepsparse engine``: ``deepsparse.benchmark -e deepsparse -s async``;
- ``pinbench deepsparse``: ``pinbench -e deepsparse -s async``, installed from this checkout into
  the same virtual environment (deepsparse 1.8.0 needs Python 3.11 and numpy 1.x);

and, on a KV-cache decoder (``--engines decoder``; a decoder-only transformer generated with
``tests/decoder_factory.py``: ``--decoder-hidden``, ``--decoder-layers``, ``--decoder-vocab``), one
decode step at a context of ``--seq-len`` tokens, the same shapes on both sides:

- ``deepsparse decoder``: ``deepsparse.benchmark MODEL -e onnxruntime --no-internal-kv-cache -s
  sync -seq_len S -input_ids_len 1`` (on a copy of its own: the original rewrites the model file);
- ``pinbench decoder``: ``pinbench MODEL -s sync -seq_len S -input_ids_len 1``.

Every contender runs in a subprocess of its own, and the contenders take turns round by round
(the order rotates) so that they share the machine's noise. The script reports; it always exits 0
once it has measured (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

DEEPSPARSE_REQUIREMENT = "deepsparse[onnxruntime]==1.8.0"
DEEPSPARSE_VERSION = "1.8.0"
DEFAULT_VENV = Path("~/.cache/pinbench-bench/deepsparse-venv")
NO_ANALYTICS = {"NM_DISABLE_ANALYTICS": "1"}  # deepsparse and sparsezoo: no network calls
# Seconds a subprocess may take beyond its warmup and measured time (imports, session creation).
SUBPROCESS_SLACK_S = 180
DECODER_HEAD_DIM = 64  # the generated decoder's heads are hidden // 64

# (numerator, denominator, goal): pass when numerator / denominator >= goal.
GOALS = (
    ("pinbench async", "deepsparse async", 1.40),
    ("pinbench async", "ideal loop", 0.97),
    ("pinbench sync", "plain ORT loop", 0.98),
    ("pinbench deepsparse", "deepsparse engine", 1.00),
    ("pinbench decoder", "deepsparse decoder", 1.00),
)
ENGINES = ("onnxruntime", "deepsparse", "decoder")  # what --engines may name


@dataclass
class Outcome:
    """One contender's items/sec per round; ``note`` says why there are none (skipped, failed)."""

    name: str
    describe: str
    rates: list[float] = field(default_factory=list)
    note: str = ""

    def median(self) -> float | None:
        """Median items/sec over the rounds, None when nothing was measured."""
        return statistics.median(self.rates) if self.rates else None


class Skip(Exception):
    """A contender cannot run here; the message says why and how to mend it."""


# --- CPUs -----------------------------------------------------------------------------------------


def pick_cpus(count: int) -> list[int]:
    """Return ``count`` allowed CPUs, one hardware thread per physical core first, lowest ids first.

    REQUIRES: ``count`` <= the number of CPUs this process may use (checked by parse_args).
    """
    allowed = sorted(os.sched_getaffinity(0))
    first_threads: list[int] = []
    seen_cores: set[tuple[int, ...]] = set()
    for cpu in allowed:
        core = _siblings(cpu)
        if core not in seen_cores:
            seen_cores.add(core)
            first_threads.append(cpu)
    rest = [cpu for cpu in allowed if cpu not in first_threads]
    return (first_threads + rest)[:count]


def _siblings(cpu: int) -> tuple[int, ...]:
    topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
    for name in ("core_cpus_list", "thread_siblings_list"):
        try:
            text = (topology / name).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        ids: list[int] = []
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            ids.extend(range(int(lo), int(hi or lo) + 1))
        return tuple(ids)
    return (cpu,)


def split_groups(cpus: list[int], streams: int) -> list[list[int]]:
    """Split ``cpus`` into ``streams`` disjoint, equal, contiguous groups (extras left unused)."""
    size = len(cpus) // streams
    return [cpus[i * size : (i + 1) * size] for i in range(streams)]


# --- the hand-written loops (run in a worker subprocess) ------------------------------------------


def run_loops(
    model: str, groups: list[list[int]], warmup: float, seconds: float, *, spinning: bool = False
) -> dict[str, Any]:
    """Run one pinned session per CPU group, each on its own thread, and time them together.

    Each thread pins itself, creates its session (so the session's threads inherit the mask),
    binds a random input once, warms up for ``warmup`` s, then waits for the others; the measured
    window starts for all at once and ends with the last iteration in flight at the deadline.
    Returns items/sec (batch 1) over ``[first start, last end]`` across all threads.
    """
    n = len(groups)
    deadline = [0.0]
    iterations = [0] * n
    starts = [float("inf")] * n
    ends = [0.0] * n
    errors: list[BaseException] = []

    def set_deadline() -> None:
        deadline[0] = time.perf_counter() + seconds

    barrier = threading.Barrier(n, action=set_deadline)

    def stream(i: int) -> None:
        try:
            os.sched_setaffinity(0, set(groups[i]))  # 0: the calling thread
            session, binding = make_session(model, threads=len(groups[i]), spinning=spinning)
            run = session.run_with_iobinding
            warm_until = time.perf_counter() + warmup
            run(binding)
            while time.perf_counter() < warm_until:
                run(binding)
            barrier.wait()
            stop = deadline[0]
            count = 0
            t = first = time.perf_counter()
            while t < stop:
                run(binding)
                count += 1
                t = time.perf_counter()
            iterations[i], starts[i], ends[i] = count, first, t
        except threading.BrokenBarrierError:
            pass
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    window = max(ends) - min(starts)
    total = sum(iterations)
    return {"items_per_sec": total / window, "iterations": total, "seconds_ran": window}


def make_session(model: str, *, threads: int, spinning: bool = False) -> tuple[Any, Any]:
    """A CPU-only session with ``threads`` intra-op threads and a bound input.

    Spinning is off for the per-stream sessions (spinning pools steal the other streams' cores)
    and on, ONNX Runtime's own default, for the plain single-session loop."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    dtypes = {
        "tensor(float)": np.float32,
        "tensor(float16)": np.float16,
        "tensor(double)": np.float64,
        "tensor(int64)": np.int64,
        "tensor(int32)": np.int32,
        "tensor(int8)": np.int8,
        "tensor(uint8)": np.uint8,
        "tensor(bool)": np.bool_,
    }
    rng = np.random.default_rng(0)
    binding = session.io_binding()
    for arg in session.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in arg.shape]
        data: Any = rng.random(shape).astype(
            dtypes[arg.type]
        )  # integers: zeros, valid ids and masks
        binding.bind_cpu_input(arg.name, np.ascontiguousarray(data))
    for out in session.get_outputs():
        binding.bind_output(out.name, "cpu")
    return session, binding


def worker_main(args: argparse.Namespace) -> int:
    """Entry of the worker subprocess: print one JSON line with the loops' result."""
    groups = [[int(c) for c in g.split(",")] for g in args.worker_groups.split(";")]
    result = run_loops(args.model, groups, args.warmup, args.time, spinning=args.worker_spinning)
    print(json.dumps(result))
    return 0


# --- contenders -----------------------------------------------------------------------------------


def run_json(command: Sequence[str], out: Path, *, timeout: float, env: dict[str, str]) -> float:
    """Run a benchmark command that writes deepsparse-style JSON to ``out``; return items/sec."""
    done = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        check=False,
    )
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"exit code {done.returncode}: {tail[0]}")
    return float(json.loads(out.read_text(encoding="utf-8"))["benchmark_result"]["items_per_sec"])


def run_worker(
    model: Path, groups: list[list[int]], args: argparse.Namespace, *, spinning: bool = False
) -> float:
    """Run the hand-written loops in a fresh interpreter; return items/sec."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker-groups",
        ";".join(",".join(map(str, g)) for g in groups),
        "--model",
        str(model),
        "--time",
        str(args.time),
        "--warmup",
        str(args.warmup),
        *(["--worker-spinning"] if spinning else []),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=args.time + args.warmup + SUBPROCESS_SLACK_S,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"exit code {done.returncode}: {tail[0]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["items_per_sec"])


def ensure_deepsparse(venv: Path, python: str | None, skip_install: bool) -> Path:
    """Return the venv's ``deepsparse.benchmark``, creating the venv and installing if needed."""
    tool = venv / "bin" / "deepsparse.benchmark"
    if installed_version(venv, "deepsparse") == DEEPSPARSE_VERSION and tool.exists():
        return tool
    if skip_install:
        raise Skip(f"no deepsparse {DEEPSPARSE_VERSION} in {venv} (run without --skip-install)")
    interpreter = python or find_python311()
    started = time.perf_counter()
    print(f"installing {DEEPSPARSE_REQUIREMENT} into {venv} ...", flush=True)
    steps = [
        [interpreter, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", DEEPSPARSE_REQUIREMENT],
    ]
    for step in steps:
        run_install_step(step)
    print(f"installed in {time.perf_counter() - started:.0f} s", flush=True)
    return tool


def run_install_step(step: list[str]) -> None:
    """Runs one install command; a failure skips the contender, naming the command."""
    done = subprocess.run(step, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise Skip(f"`{shlex.join(step)}` failed: {tail[0]}")


def find_python311() -> str:
    """deepsparse 1.8.0 has wheels up to Python 3.11: this interpreter if it is 3.11, else one."""
    here = sys.version_info
    if (here.major, here.minor) == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if found is None:
        raise Skip("deepsparse 1.8.0 needs Python 3.11: install it or pass --python")
    return found


def installed_version(venv: Path, distribution: str) -> str | None:
    """Version of ``distribution`` in ``venv``, None when absent (or no venv)."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def ensure_pinbench(venv: Path, skip_install: bool, reinstall: bool) -> Path:
    """Return the venv's ``pinbench``, installing it from this checkout if needed.

    The build happens in a temporary folder, so the checkout's own build folder (an editable
    install's) is left alone. The installed copy is a snapshot: ``reinstall`` refreshes it.
    """
    tool = venv / "bin" / "pinbench"
    if tool.exists() and not reinstall:
        return tool
    if skip_install:
        raise Skip(f"no pinbench in {venv} (run without --skip-install)")
    started = time.perf_counter()
    print(f"installing pinbench from this checkout into {venv} ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="pinbench-build-") as build:
        step = [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            f"--config-settings=build-dir={build}",
            str(Path(__file__).resolve().parent.parent),
        ]
        run_install_step(step)
    print(f"installed in {time.perf_counter() - started:.0f} s", flush=True)
    return tool


Contender = tuple[Outcome, "Callable[[int], float] | None"]


def build_contenders(
    args: argparse.Namespace, model: Path, work: Path, cpus: list[int]
) -> list[Contender]:
    """Each contender of the engines asked for, with its round runner (None: skipped, with the
    reason in its note)."""
    contenders: list[Contender] = []
    if "onnxruntime" in args.engines:
        contenders += onnxruntime_contenders(args, model, work, cpus)
    if "deepsparse" in args.engines:
        contenders += deepsparse_engine_contenders(args, model, work)
    if "decoder" in args.engines:
        contenders += decoder_contenders(args, work)
    return contenders


def make_decoder(args: argparse.Namespace, folder: Path) -> Path:
    """The decoder of ``--decoder-*`` (``tests/decoder_factory.py``), written into ``folder``."""
    tests = Path(__file__).resolve().parent.parent / "tests"
    sys.path.insert(0, str(tests))
    from decoder_factory import make_kv_decoder

    heads = args.decoder_hidden // DECODER_HEAD_DIM
    folder.mkdir(parents=True, exist_ok=True)
    return make_kv_decoder(  # the names deepsparse.benchmark accepts (no position_ids)
        folder,
        convention="deepsparse",
        causal_mask=True,
        heads=heads,
        head_dim=DECODER_HEAD_DIM,
        layers=args.decoder_layers,
        vocab=args.decoder_vocab,
        max_positions=max(args.seq_len, 128),
    )


def decoder_contenders(args: argparse.Namespace, work: Path) -> list[Contender]:
    """deepsparse.benchmark -e onnxruntime --no-internal-kv-cache and pinbench, both -s sync,
    one decode step at -seq_len on the same generated decoder."""
    t, w, c = args.time, args.warmup, args.cores
    timeout = t + w + SUBPROCESS_SLACK_S
    step = ["-s", "sync", "-seq_len", str(args.seq_len), "-input_ids_len", "1"]
    common = [*step, "-e", "onnxruntime", "-ncores", str(c), "-t", str(t), "-w", str(w), "-q"]
    shape = f"L={args.decoder_layers} d={args.decoder_hidden} seq {args.seq_len}"
    ds = Outcome("deepsparse decoder", f"deepsparse.benchmark --no-internal-kv-cache {shape}")
    ours = Outcome("pinbench decoder", f"pinbench, {shape}")
    model = make_decoder(args, work / "decoder")
    # deepsparse.benchmark writes its shapes into the model file: a copy of its own.
    ds_model = work / "decoder-deepsparse" / model.name
    ds_model.parent.mkdir()
    shutil.copyfile(model, ds_model)
    contenders: list[Contender] = []
    try:
        tool = ensure_deepsparse(args.venv.expanduser(), args.python, args.skip_install)
    except Skip as why:
        ds.note = f"skipped: {why}"
        contenders.append((ds, None))
    else:

        def deepsparse_round(r: int) -> float:
            out = work / f"deepsparse-decoder-{r}.json"
            command = [str(tool), str(ds_model), "--no-internal-kv-cache", *common]
            return run_json([*command, "-x", str(out)], out, timeout=timeout, env=NO_ANALYTICS)

        contenders.append((ds, deepsparse_round))
    if shutil.which(args.pinbench[0]) is None:
        ours.note = f"skipped: `{shlex.join(args.pinbench)}` not found on PATH"
        return [*contenders, (ours, None)]

    def pinbench_round(r: int) -> float:
        out = work / f"pinbench-decoder-{r}.json"
        command = [*args.pinbench, str(model), *common]
        return run_json([*command, "-x", str(out)], out, timeout=timeout, env={})

    return [*contenders, (ours, pinbench_round)]


def deepsparse_engine_contenders(
    args: argparse.Namespace, model: Path, work: Path
) -> list[Contender]:
    """deepsparse.benchmark -e deepsparse and pinbench -e deepsparse, both async, same venv."""
    s, c, t, w = args.streams, args.cores, args.time, args.warmup
    timeout = t + w + SUBPROCESS_SLACK_S
    flags = ["-e", "deepsparse", "-s", "async", "-nstreams", str(s), "-ncores", str(c)]
    flags += ["-t", str(t), "-w", str(w), "-q"]
    original = Outcome(
        "deepsparse engine", f"deepsparse.benchmark {DEEPSPARSE_VERSION} -e deepsparse"
    )
    ours = Outcome("pinbench deepsparse", "pinbench -e deepsparse (same venv)")
    venv = args.venv.expanduser()
    try:
        tools = {
            original.name: ensure_deepsparse(venv, args.python, args.skip_install),
            ours.name: ensure_pinbench(venv, args.skip_install, args.reinstall_pinbench),
        }
    except Skip as why:
        original.note = ours.note = f"skipped: {why}"
        return [(original, None), (ours, None)]

    def round_of(name: str) -> Callable[[int], float]:
        def run(r: int) -> float:
            out = work / f"{name.replace(' ', '-')}-{r}.json"
            command = [str(tools[name]), str(model), *flags, "-x", str(out)]
            return run_json(command, out, timeout=timeout, env=NO_ANALYTICS)

        return run

    return [(original, round_of(original.name)), (ours, round_of(ours.name))]


def onnxruntime_contenders(
    args: argparse.Namespace, model: Path, work: Path, cpus: list[int]
) -> list[Contender]:
    """deepsparse.benchmark -e onnxruntime, the hand-written loops and pinbench -e onnxruntime."""
    s, c, t, w = args.streams, args.cores, args.time, args.warmup
    timeout = t + w + SUBPROCESS_SLACK_S
    common = ["-e", "onnxruntime", "-ncores", str(c), "-t", str(t), "-w", str(w), "-q"]
    contenders: list[Contender] = []

    ds = Outcome("deepsparse async", f"deepsparse.benchmark {DEEPSPARSE_VERSION} -s async")
    try:
        tool = ensure_deepsparse(args.venv.expanduser(), args.python, args.skip_install)
    except Skip as why:
        ds.note = f"skipped: {why}"
        contenders.append((ds, None))
    else:

        def deepsparse_round(r: int) -> float:
            out = work / f"deepsparse-{r}.json"
            command = [str(tool), str(model), "-s", "async", "-nstreams", str(s), *common]
            return run_json([*command, "-x", str(out)], out, timeout=timeout, env=NO_ANALYTICS)

        contenders.append((ds, deepsparse_round))

    groups = split_groups(cpus, s)
    ideal = Outcome("ideal loop", f"{s} pinned sessions, {len(groups[0])} thread(s) each")
    contenders.append((ideal, lambda _r: run_worker(model, groups, args)))
    plain = Outcome("plain ORT loop", f"1 session, {c} intra-op threads, spinning on")
    contenders.append((plain, lambda _r: run_worker(model, [cpus], args, spinning=True)))

    pinbench = shutil.which(args.pinbench[0]) if args.pinbench else None
    for scenario in ("async", "sync"):
        outcome = Outcome(f"pinbench {scenario}", f"pinbench -s {scenario}")
        if pinbench is None:
            outcome.note = (
                f"skipped: `{shlex.join(args.pinbench)}` not found on PATH "
                "(pip install the project, or pass --pinbench 'python -m pinbench')"
            )
            contenders.append((outcome, None))
            continue
        streams = ["-nstreams", str(s)] if scenario == "async" else []

        def pinbench_round(r: int, scenario: str = scenario, streams: list[str] = streams) -> float:
            out = work / f"pinbench-{scenario}-{r}.json"
            command = [*args.pinbench, str(model), "-s", scenario, *streams, *common]
            return run_json([*command, "-x", str(out)], out, timeout=timeout, env={})

        contenders.append((outcome, pinbench_round))
    return contenders


# --- report ---------------------------------------------------------------------------------------


def report(
    outcomes: list[Outcome], rounds: int, goals: Sequence[tuple[str, str, float]] = GOALS
) -> dict[str, Any]:
    """Print the table and the goal ratios (those whose two contenders ran or were skipped here);
    return the same as a dict for --export."""
    heads = [f"round {r + 1}" for r in range(rounds)]
    print()
    print(f"{'contender':<20} {'setup':<42} " + " ".join(f"{h:>9}" for h in heads) + "    median")
    for o in outcomes:
        cells = [f"{x:9.1f}" for x in o.rates] + [f"{'-':>9}"] * (rounds - len(o.rates))
        med = o.median()
        tail = f"{med:9.1f}" if med is not None else f"{'-':>9}"
        print(f"{o.name:<20} {o.describe:<42} " + " ".join(cells) + f" {tail}")
        if o.note:
            print(f"{'':<20} {o.note}")
    print("\n(items/sec)\n")
    by_name = {o.name: o.median() for o in outcomes}
    ratios = []
    print(f"{'ratio':<42} {'value':>7} {'change':>8} {'goal':>8}  verdict")
    for top, bottom, goal in goals:
        if top not in by_name or bottom not in by_name:
            continue
        a, b = by_name[top], by_name[bottom]
        value = a / b if a is not None and b else None
        verdict = "n/a" if value is None else ("PASS" if value >= goal else "FAIL")
        shown = f"{value:7.3f}" if value is not None else f"{'-':>7}"
        change = f"{(value - 1) * 100:+7.1f}%" if value is not None else f"{'-':>8}"
        ratio = f"{top} / {bottom}"
        print(f"{ratio:<42} {shown} {change} {'>= ' + format(goal, '.2f'):>8}  {verdict}")
        ratios.append({"ratio": ratio, "value": value, "goal": goal})
    ideal, ds = by_name.get("ideal loop"), by_name.get("deepsparse async")
    if ideal is not None and ds:
        print(f"{'(for scale) ideal loop / deepsparse async':<42} {ideal / ds:7.3f}")
    contenders = [
        {"name": o.name, "setup": o.describe, "items_per_sec": o.rates, "median": o.median()}
        | ({"note": o.note} if o.note else {})
        for o in outcomes
    ]
    return {"contenders": contenders, "ratios": ratios}


def measure_rounds(contenders: list[Contender], rounds: int) -> None:
    """Run every runnable contender ``rounds`` times, rotating the order from round to round; a
    contender that fails is noted and not retried."""
    runnable = [(o, run) for o, run in contenders if run is not None]
    for r in range(rounds):
        shift = r % max(1, len(runnable))
        for outcome, run in runnable[shift:] + runnable[:shift]:
            if outcome.note:  # failed in an earlier round: not retried
                continue
            print(f"round {r + 1}: {outcome.name} ...", end=" ", flush=True)
            try:
                rate = run(r)
            except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
                outcome.note = f"failed: {e}"
                print("failed")
                continue
            outcome.rates.append(rate)
            print(f"{rate:.1f} items/sec", flush=True)


def default_model() -> str | None:
    """Light SqueezeNet from the onnx package's test data, None when onnx is not installed."""
    try:
        import onnx
    except ImportError:
        return None
    path = Path(onnx.__file__).parent / "backend/test/data/light/light_squeezenet.onnx"
    return str(path) if path.exists() else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and validate the command line."""
    p = argparse.ArgumentParser(
        description="pinbench against deepsparse.benchmark (-e onnxruntime, -e deepsparse) and "
        "hand-written ONNX Runtime loops, on the same model and settings, in one run.",
    )
    p.add_argument("--model", help="ONNX file (default: light SqueezeNet from the onnx package)")
    p.add_argument("--time", type=int, default=10, help="measured seconds per run (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="warmup seconds per run (default 2)")
    p.add_argument("--streams", type=int, default=2, help="async streams (default 2)")
    p.add_argument("--cores", type=int, help="cores for every contender (default: --streams)")
    p.add_argument("--rounds", type=int, default=3, help="rounds; contenders take turns (3)")
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"default {DEFAULT_VENV}")
    p.add_argument("--skip-install", action="store_true", help="use the venv as it is")
    p.add_argument("--python", help="Python 3.11 interpreter for the venv (default: found)")
    p.add_argument(
        "--pinbench", type=shlex.split, default=["pinbench"], help="command (default pinbench)"
    )
    p.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comparisons to run: onnxruntime (deepsparse.benchmark -e onnxruntime, the loops, "
        "pinbench), deepsparse (deepsparse.benchmark -e deepsparse, pinbench -e deepsparse), "
        "decoder (a KV-cache decode step, -e onnxruntime on both sides); default all",
    )
    p.add_argument(
        "--reinstall-pinbench",
        action="store_true",
        help="reinstall pinbench from this checkout into the venv (its copy is a snapshot)",
    )
    p.add_argument("--seq-len", type=int, default=256, help="decoder: context of the step (256)")
    p.add_argument("--decoder-hidden", type=int, default=512, help="decoder: hidden size (512)")
    p.add_argument("--decoder-layers", type=int, default=4, help="decoder: layers (4)")
    p.add_argument("--decoder-vocab", type=int, default=8192, help="decoder: vocabulary (8192)")
    p.add_argument("--export", type=Path, help="also write the results as JSON here")
    p.add_argument("--worker-groups", help=argparse.SUPPRESS)
    p.add_argument("--worker-spinning", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.model = args.model or default_model()
    if args.model is None or not Path(args.model).is_file():
        p.error("no model: pass --model (or install onnx for the default light SqueezeNet)")
    if args.worker_groups is not None:
        return args
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not args.engines or set(args.engines) - set(ENGINES):
        p.error(f"--engines {','.join(args.engines)}: name some of {', '.join(ENGINES)}")
    args.cores = args.cores or args.streams
    if min(args.time, args.streams, args.cores, args.rounds) < 1 or args.warmup < 0:
        p.error("--time, --streams, --cores and --rounds must be >= 1, --warmup >= 0")
    if args.cores > len(os.sched_getaffinity(0)):
        p.error(
            f"--cores {args.cores}: this process may use only {len(os.sched_getaffinity(0))} CPUs"
        )
    if args.seq_len < 2 or args.decoder_hidden % DECODER_HEAD_DIM or args.decoder_hidden < 1:
        p.error(f"--seq-len >= 2 and --decoder-hidden a multiple of {DECODER_HEAD_DIM}")
    if args.cores < args.streams:
        p.error(f"--cores {args.cores} < --streams {args.streams}: each stream needs a core")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every contender ``--rounds`` times, print the table, and exit 0."""
    args = parse_args(argv)
    if args.worker_groups is not None:
        return worker_main(args)
    cpus = pick_cpus(args.cores)
    with tempfile.TemporaryDirectory(prefix="vs-deepsparse-") as tmp:
        work = Path(tmp)
        # deepsparse rewrites the model file in place when given -b/-shapes: hand out a copy.
        model = work / Path(args.model).name
        shutil.copyfile(args.model, model)
        contenders = build_contenders(args, model, work, cpus)
        what = f"model {Path(args.model).name}"
        if args.engines == ["decoder"]:
            what = "a generated decoder"
        print(
            f"{what}, {args.streams} streams on {args.cores} cores "
            f"(CPUs {','.join(map(str, cpus))}), {args.time} s + {args.warmup} s warmup per "
            f"run, {args.rounds} rounds; onnxruntime {ort_version()} here, "
            f"{installed_version(args.venv.expanduser(), 'onnxruntime') or '-'} with deepsparse"
        )
        measure_rounds(contenders, args.rounds)
    summary = report([o for o, _ in contenders], args.rounds)
    if args.export is not None:
        args.export.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


def ort_version() -> str:
    """This interpreter's onnxruntime version, from metadata (no import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onnxruntime")
    except PackageNotFoundError:
        return "-"


if __name__ == "__main__":
    sys.exit(main())
