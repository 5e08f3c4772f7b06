"""ONNX Runtime: one InferenceSession per stream of a core group, one per NUMA node for the
one-core streams of that node (``--instances auto``), or one shared (elastic).

``--profile DIR``: the profiled pass's sessions are built with ONNX Runtime's profiler on
(``SessionOptions.enable_profiling``, ``profile_file_prefix`` DIR/onnxruntime_instanceK), which
writes one Chrome-trace JSON file per session when the pass ends (``end_profiling()``); the
table counts each stream thread's inferences after ``bind()``'s first calls
(``onnxruntime_profile``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.errors import RunError, UsageError, gist
from ..base.logs import log
from ..base.profiling import OperatorProfile, OperatorTime
from ..settings import GRAPH_OPTIMIZATION_LEVELS
from .base import Engine, EngineOptions, Step

if TYPE_CHECKING:
    import numpy as np

    from ..model.spec import LoadedModel

# ONNX Runtime stops recording a session's events past this many (its profiler's limit).
PROFILER_EVENT_LIMIT = 1_000_000
# bind() runs the step this many times before the clock (the profiled pass leaves them out).
BIND_RUNS = 2


_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*")
_INPUT_NAME = re.compile(r"(?:for input|input name|input)[:\s]+'?([^\s',]+)'?", re.IGNORECASE)
# What is left of the CLI's 200-character error line after "pinbench: error: stream N: ".
_MESSAGE_ROOM = 170
_LOAD_FAILED = re.compile(r"^Load model from .*? failed:\s*")
# ONNX Runtime's wrapper around what a kernel's constructor threw: the kernel's words follow.
_INIT_FAILED = re.compile(r"^Exception during initialization:\s*")
_NODE_FAILED = re.compile(
    r"Error in execution: Non-zero status code returned while running (\w+) node\. "
    r"Name:'([^']*)' Status Message:\s*"
)


def short_error(e: BaseException) -> str:
    """ONNX Runtime's message on one line, without its error-code prefix and the file name it
    repeats ("Load model from X failed:")."""
    text = _ORT_PREFIX.sub("", " ".join(str(e).split()))
    text = _INIT_FAILED.sub("", _LOAD_FAILED.sub("", text))
    return _NODE_FAILED.sub(
        lambda m: f"{m.group(1)} node {m.group(2)!r}: " if m.group(2) else f"{m.group(1)} node: ",
        text,
    )


def _overrides(model: LoadedModel) -> str:
    """`` with -shapes "..."`` / `` with -b N`` when the model as run is the user's, changed."""
    if model.shape_overrides:
        shapes = ",".join(f"{k}:{list(v)}" for k, v in model.shape_overrides.items())
        return f' with -shapes "{shapes.replace(" ", "")}"'
    return f" with -b {model.batch_size}" if model.batch_size is not None else ""


class OnnxRuntimeEngine(Engine):
    """ONNX Runtime on the CPU execution provider unless others are named.

    Each instance is an InferenceSession with ``intra_op_num_threads`` = the stream's cores (so ONNX
    Runtime does not pin its threads itself: they inherit the stream's CPU set), one inter-op
    thread, sequential execution, and spinning off unless asked (spinning pools steal cores from
    the other streams). Inputs are bound once with I/O binding, one binding per stream.

    With one intra-op thread a session has no pool: ``run`` executes on the calling thread, and
    ``InferenceSession.run`` may be called by many threads at once. So one session serves all
    the one-core streams of a NUMA node (``shares_inline_instances``), each stream running it on
    its own pinned thread through its own binding.
    """

    name = "onnxruntime"
    shares_inline_instances = True
    generates = True
    profiler = "ONNX Runtime's profiler (SessionOptions.enable_profiling)"

    def __init__(self, model: LoadedModel, options: EngineOptions) -> None:
        super().__init__(model, options)
        import onnxruntime as ort

        self._ort = ort
        # Failures reach the user through our one-line errors; ONNX Runtime's own error log would
        # print them again, in colour, on stderr.
        ort.set_default_logger_severity(4)
        available = ort.get_available_providers()
        self.providers = list(options.providers) or ["CPUExecutionProvider"]
        missing = [p for p in self.providers if p not in available]
        if missing:
            raise UsageError(
                f"execution provider {', '.join(missing)} is not available in this ONNX Runtime "
                f"build; available: {', '.join(available)}"
            )
        if options.graph_optimization not in GRAPH_OPTIMIZATION_LEVELS:
            raise UsageError(
                f"unknown graph optimization level {options.graph_optimization!r}: expected one "
                f"of {', '.join(GRAPH_OPTIMIZATION_LEVELS)}"
            )
        self._threads: list[int] = []
        self._spinning: list[bool] = []
        self._profiled: list[Any] = []  # --profile: every session built, to end its profiling
        self._prefixes = 0
        # -s generate: the cache length of the presents at each call of a checked request
        self._cache_lengths: list[int] = []

    @classmethod
    def version(cls) -> str:
        import onnxruntime

        return str(onnxruntime.__version__)

    def _session_options(self, threads: int, spinning: bool) -> Any:
        ort = self._ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = {
            "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[self.engine_options.graph_optimization]
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
        so.log_severity_level = 4  # failures reach the user as our one-line errors, once
        folder = self.engine_options.profile_dir
        if folder is not None:
            with self._count_lock:
                k, self._prefixes = self._prefixes, self._prefixes + 1  # a prefix per session
            so.enable_profiling = True
            so.profile_file_prefix = str(Path(folder) / f"onnxruntime_instance{k}")
        return so

    def create_instance(self, threads: int, *, spinning: bool) -> Any:
        options = self._session_options(threads, spinning)
        try:
            session = self._ort.InferenceSession(
                str(self.model.path), options, providers=self.providers
            )
        except Exception as e:
            text = short_error(e).replace(str(self.model.path), str(self.model.source_path))
            head = f"ONNX Runtime cannot load {self.model.orig_path}{_overrides(self.model)}: "
            raise RunError(
                head + gist(text, max(110, _MESSAGE_ROOM - len(head))), detail=text
            ) from e
        self._counted()
        with self._count_lock:
            self._threads.append(threads)
            self._spinning.append(spinning)
            if self.engine_options.profile_dir is not None:
                self._profiled.append(session)
        return session

    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Step:
        if self.engine_options.generation is not None:
            return self._bind_generation(instance)
        session = instance
        if any(a.dtype.kind in "OUS" for a in inputs.values()):
            # I/O binding takes numeric tensors only; strings go through run().
            step: Step = functools.partial(session.run, None, inputs)
        else:
            binding = session.io_binding()
            for name, array in inputs.items():
                binding.bind_cpu_input(name, array)
            for out in session.get_outputs():
                binding.bind_output(out.name)
            step = functools.partial(session.run_with_iobinding, binding)
        try:
            # Fail here, with a clear message, rather than in the timed loop. Twice: with I/O
            # binding the second run reuses the first run's outputs, and some models' declared
            # output shapes only clash then.
            self.check_step(step, BIND_RUNS)
        except Exception as e:
            raise RunError(self._input_error(e, inputs), detail=short_error(e)) from e
        return step

    def _bind_generation(self, session: Any) -> Step:
        """-s generate's step (``engines.generation``): one request checked on outputs that
        ONNX Runtime allocates (the cache must grow by the tokens fed), then one run through
        the step itself, so that its cursor is at a request's start when the runner begins."""
        from .generation import GenerationStep, check_decoder

        request = self.engine_options.generation
        assert request is not None
        decoder = check_decoder(self.model.decoder, self.model.orig_path)
        vocab = self.model.index_bounds.get(decoder.input_ids or "")
        try:
            step = GenerationStep(session, decoder, request, self.batch_size, vocab)
            lengths = step.check_request()
            self.check_step(step, min(2, request.calls))
            for _ in range(request.calls - min(2, request.calls)):
                step()
        except RunError:
            raise
        except Exception as e:
            raise RunError(
                f"ONNX Runtime rejected -s generate's request on {self.model.orig_path}: "
                + gist(short_error(e), 100),
                detail=short_error(e),
            ) from e
        with self._count_lock:
            self._cache_lengths = lengths
        return step

    def profile_results(self, iterations: int) -> OperatorProfile | None:
        """Ends every profiled session's profiling (each writes its file) and reads the files."""
        from .onnxruntime_profile import read_trace

        with self._count_lock:
            sessions, self._profiled = list(self._profiled), []
        if not sessions:
            return None
        totals: dict[str, list[int]] = {}
        files: list[str] = []
        inferences = inference_ns = bare = dropped = 0
        for session in sessions:
            path = session.end_profiling()
            files.append(str(path))
            times = read_trace(path, iterations, skip=BIND_RUNS)
            inferences += times.inferences
            inference_ns += times.inference_ns
            bare += times.without_kernels
            dropped += times.dropped_events
            for op in times.operators:
                entry = totals.setdefault(op.op_type, [0, 0])
                entry[0] += op.count
                entry[1] += op.total_ns
        notes = ["kernel time per node (ONNX Runtime's <node>_kernel_time events); the share is "
                 "of its model_run events, which add what runs between the kernels"]  # fmt: skip
        if dropped:
            log.warning(
                "--profile: ONNX Runtime's profiler dropped %d events past its limit of %d a "
                "session; the table covers the inferences before that",
                dropped,
                PROFILER_EVENT_LIMIT,
            )
            notes.append(
                f"ONNX Runtime records a session's first {PROFILER_EVENT_LIMIT:,} events and "
                f"dropped {dropped:,} more: the table covers the inferences recorded before "
                "that; lower --profile-iterations"
            )
        if bare:
            notes.append(f"{bare} counted inferences have no kernel events")
        operators = tuple(
            sorted(
                (OperatorTime(op, c, ns) for op, (c, ns) in totals.items()),
                key=lambda o: (-o.total_ns, o.op_type),
            )
        )
        return OperatorProfile(
            self.profiler, operators, inferences, inference_ns, tuple(files), tuple(notes)
        )

    def _input_error(self, e: BaseException, inputs: dict[str, np.ndarray]) -> str:
        from ..model.load import suggest_shapes

        msg = short_error(e)
        shapes = ", ".join(f"{n}: {a.dtype}{list(a.shape)}" for n, a in inputs.items())
        named = [m for m in _INPUT_NAME.findall(msg) if m in inputs] or (
            list(inputs) if len(inputs) == 1 else []
        )
        what = (
            f"input '{named[0]}' {inputs[named[0]].dtype}{list(inputs[named[0]].shape)}"
            if named
            else f"the inputs ({shapes})"
        )
        hint = suggest_shapes(self.model)
        hint = f"set shapes with {hint}" if hint else "set shapes with -shapes"
        head, tail = f"ONNX Runtime rejected {what}: ", f"; {hint} or real inputs with --data"
        room = _MESSAGE_ROOM - len(head) - len(tail)
        if room < 60:  # the gist matters more than the second remedy
            tail = f"; {hint}"
            room = _MESSAGE_ROOM - len(head) - len(tail)
        return head + gist(msg, max(40, room)).rstrip(".") + tail

    def options(self) -> dict[str, object]:
        with self._count_lock:
            threads = sorted(set(self._threads))
            spinning = sorted(set(self._spinning))
        return {
            "providers": self.providers,
            "intra_op_num_threads": threads[0] if len(threads) == 1 else threads,
            "inter_op_num_threads": 1,
            "execution_mode": "sequential",
            "graph_optimization_level": self.engine_options.graph_optimization,
            "allow_spinning": spinning[0] if len(spinning) == 1 else spinning,
            "io_binding": True,
            "sessions": self.instances_created,
            **(
                {"generation_cache_lengths_checked": self._cache_lengths}
                if self._cache_lengths
                else {}
            ),
        }
