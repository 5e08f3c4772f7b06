"""OpenVINO on its CPU plugin: one compiled model per stream (async, sync) or one shared (elastic).

``--instances auto`` keeps one compiled model per stream (``shares_inline_instances`` is False):
the CPU plugin runs a request on its own executor threads, not on the caller's, so one compiled
model shared by the one-core streams of a node ran their requests one after the other (two
streams on 2 cores, each its own infer request: 68 against 86-89 items/s for light SqueezeNet,
33 against 56 for 8 MatMul layers of 2048x2048; with ``NUM_STREAMS`` 2 and the node's CPUs for
its executors, worse still). ``--instances node`` shares it anyway, to save memory.

| scenario | compiled models | ``NUM_STREAMS`` | ``INFERENCE_NUM_THREADS`` | infer requests |
|---|---|---|---|---|
| sync | 1 | 1 | all selected cores | 1 |
| async | one per stream, on its pinned thread | 1 | the stream's cores | one per stream |
| elastic | 1, shared | the streams | all selected cores | one per stream |

In ``elastic`` OpenVINO schedules the streams' requests onto its own streams.

``ENABLE_CPU_PINNING`` is off: pinbench pins the stream, and OpenVINO's threads inherit that CPU
set. (With it on, OpenVINO re-pinned each stream's thread to every CPU, ignoring the plan, and two
one-thread streams on 2 cores ran at about half the throughput.) The inference precision is f32
unless asked (``--precision``): OpenVINO would pick bf16 by itself on CPUs with bf16 support, and
results would no longer compare with ONNX Runtime; the precision the compiled model reports, and
the precisions of its layers as run, are recorded. Free input dimensions are fixed to the shapes
as run before compiling. String inputs are refused: OpenVINO 2026.4's CPU plugin aborted the
process on them.

``--profile DIR``: the profiled pass's models are compiled with ``PERF_COUNT`` on, and the table
comes from ``get_profiling_info()`` (per layer, by its OpenVINO type: ``Convolution``, ...). The
CPU plugin's counters are running means over every inference of a compiled model since it was
compiled (``bind()``'s first one included), shared by its infer requests; the table scales
them by the pass's inferences. OpenVINO writes no file (the table is in the JSON).

OpenVINO's package sends usage telemetry when imported unless it believes it runs in CI; pinbench
imports it with ``CI=true`` set for the duration of the import, so a benchmark makes no network
calls (its other opt-out writes a consent file into the home folder).
"""

from __future__ import annotations

import functools
import os
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..base.errors import RunError, UsageError, one_line
from ..base.profiling import OperatorProfile, OperatorTime
from ..settings import PRECISIONS
from .base import Engine, EngineOptions, Step

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np

    from ..model.spec import LoadedModel
    from .base import LayoutView

DEFAULT_PRECISION = "f32"
# Layers whose precision says nothing about the arithmetic (constants, graph ends, reorders).
_NOT_COMPUTE = {"Const", "Input", "Output", "Parameter", "Result", "Reorder", "Reshape"}


def import_openvino() -> Any:
    """``openvino``, imported with its telemetry off (see the module docstring)."""
    if "openvino" in sys.modules:
        return sys.modules["openvino"]
    saved = os.environ.get("CI")
    os.environ["CI"] = "true"  # read by openvino_telemetry's consent check during the import
    try:
        import openvino
    finally:
        if saved is None:
            del os.environ["CI"]
        else:
            os.environ["CI"] = saved
    return openvino


def _infer(request: Any, held: list[Any]) -> object:
    """One inference; ``held`` keeps the input tensors (and their arrays) alive. Outputs are
    views of OpenVINO's own tensors (``share_outputs``): nothing is copied per step."""
    return request.infer(share_outputs=True)


class OpenVinoEngine(Engine):
    """OpenVINO, CPU plugin; see the module docstring for the scenario table."""

    name = "openvino"
    profiler = "OpenVINO's per-layer performance counters (PERF_COUNT)"

    def __init__(self, model: LoadedModel, options: EngineOptions) -> None:
        super().__init__(model, options)
        self.precision = (options.precision or DEFAULT_PRECISION).lower()
        if self.precision not in PRECISIONS:
            raise UsageError(
                f"--precision {options.precision}: expected one of {', '.join(PRECISIONS)}"
            )
        self._ov = import_openvino()
        self._core = self._ov.Core()
        try:
            self._model = self._core.read_model(str(model.path))
        except Exception as e:
            raise RunError(f"OpenVINO cannot read {model.orig_path}: {one_line(e)}") from e
        self._static = not self._model.is_dynamic()
        self._resolved: dict[str, object] = {}
        self._threads: list[int] = []
        self._requests: dict[int, list[Any]] = {}  # --profile: compiled model -> its requests

    @classmethod
    def version(cls) -> str:
        """The release (``2026.4.1``); ``options()["build"]`` holds the full build string."""
        from importlib.metadata import PackageNotFoundError, version

        build = str(import_openvino().get_version())
        try:
            return version("openvino")
        except PackageNotFoundError:  # built from source: the build string starts with it
            return build.split("-")[0]

    def prepare(
        self, layout: LayoutView, *, batch_size: int, input_shapes: Mapping[str, Sequence[int]]
    ) -> None:
        super().prepare(layout, batch_size=batch_size, input_shapes=input_shapes)
        strings = [s.name for s in self.model.inputs if s.dtype is not None and s.dtype.kind == "O"]
        if strings:  # see the module docstring
            raise UsageError(
                f"engine 'openvino' does not take string inputs ({', '.join(strings)}); "
                "use -e onnxruntime"
            )
        if self._static:
            return
        try:  # a static model compiles to faster code than a dynamic one
            self._model.reshape(
                {n: self._ov.PartialShape(list(s)) for n, s in input_shapes.items()}
            )
            self._static = True
        except Exception:
            self._static = False  # OpenVINO runs it with dynamic shapes instead

    def create_instance(self, threads: int, *, spinning: bool) -> Any:
        streams = self.layout.num_streams if self.layout.shared_instance else 1
        config = {
            "INFERENCE_NUM_THREADS": threads,
            "NUM_STREAMS": streams,
            "INFERENCE_PRECISION_HINT": self.precision,
            "ENABLE_CPU_PINNING": False,
            "PERFORMANCE_HINT": "LATENCY" if streams == 1 else "THROUGHPUT",
        }
        if self.engine_options.profile_dir is not None:
            config["PERF_COUNT"] = True
        try:
            compiled = self._core.compile_model(self._model, "CPU", config)
        except Exception as e:
            raise RunError(f"OpenVINO cannot compile {self.model.orig_path}: {one_line(e)}") from e
        resolved = self._read_back(compiled)
        self._counted()
        with self._count_lock:
            self._threads.append(threads)
            self._resolved = resolved
        return compiled

    def instances_built(self) -> None:
        # The model as read holds its own copy of every weight, which the compiled models no
        # longer need: dropped before the clock runs (this engine builds no instance after).
        self._model = None

    def _read_back(self, compiled: Any) -> dict[str, object]:
        """What the compiled model says it does: its settings and its layers' precisions."""
        precision = compiled.get_property("INFERENCE_PRECISION_HINT")
        layers: Counter[str] = Counter()
        for op in compiled.get_runtime_model().get_ops():
            info = op.get_rt_info()
            kind = info["layerType"].astype(str) if "layerType" in info else ""
            if "runtimePrecision" in info and kind not in _NOT_COMPUTE:
                layers[info["runtimePrecision"].astype(str)] += 1
        return {
            "inference_precision": precision.get_type_name(),
            "layer_precisions": dict(sorted(layers.items())),
            "num_streams": int(compiled.get_property("NUM_STREAMS")),
            "performance_hint": str(compiled.get_property("PERFORMANCE_HINT")),
            "enable_cpu_pinning": bool(compiled.get_property("ENABLE_CPU_PINNING")),
        }

    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Step:
        import numpy as np

        request = instance.create_infer_request()
        # The request reads these arrays in place but keeps no reference to them (nor to the
        # Python tensors): the step holds them, or they would be freed under it.
        held: list[Any] = []
        for name, array in inputs.items():
            try:  # shared: the request reads the stream's own array; nothing is copied per step
                tensor = self._ov.Tensor(np.ascontiguousarray(array), shared_memory=True)
                request.set_tensor(name, tensor)
                held.append(tensor)
            except Exception as e:
                what = f"input '{name}' {array.dtype}{list(array.shape)}"
                raise RunError(self._rejected(what, e)) from e
        step: Step = functools.partial(_infer, request, held)
        if self.engine_options.profile_dir is not None:
            with self._count_lock:
                self._requests.setdefault(id(instance), []).append(request)
        try:
            self.check_step(step)  # fail here, with a clear message, not in the timed loop
        except Exception as e:
            shapes = ", ".join(f"{n}: {a.dtype}{list(a.shape)}" for n, a in inputs.items())
            raise RunError(self._rejected(f"the inputs ({shapes})", e)) from e
        return step

    def profile_results(self, iterations: int) -> OperatorProfile | None:
        """Per layer type: the counters' mean per inference, times the inferences of the pass
        (every request of a compiled model ran ``iterations``)."""
        with self._count_lock:
            compiled = list(self._requests.values())
        if not compiled:
            return None
        totals: dict[str, list[int]] = {}
        inferences = inference_ns = 0
        for requests in compiled:
            runs = iterations * len(requests)
            for info in requests[0].get_profiling_info():
                if info.status != info.Status.EXECUTED:
                    continue
                ns = int(info.real_time.total_seconds() * 1e9) * runs
                entry = totals.setdefault(str(info.node_type), [0, 0])
                entry[0] += runs
                entry[1] += ns
                inference_ns += ns
            inferences += runs
        operators = tuple(
            sorted(
                (OperatorTime(op, c, ns) for op, (c, ns) in totals.items()),
                key=lambda o: (-o.total_ns, o.op_type),
            )
        )
        notes = (
            "the CPU plugin's running means per layer since each model was compiled (bind()'s "
            "first inference included), times the pass's inferences; the share is of the "
            "layers' sum (OpenVINO reports no whole-inference time)",
        )
        return OperatorProfile(self.profiler, operators, inferences, inference_ns, (), notes)

    def _rejected(self, what: str, e: BaseException) -> str:
        from ..model.load import suggest_shapes

        hint = suggest_shapes(self.model)
        hint = f"set shapes with {hint}" if hint else "set shapes with -shapes"
        data = "give real inputs with --data FILE.npz"
        return f"OpenVINO rejected {what}: {one_line(e)}; {hint} or {data}"

    def options(self) -> dict[str, object]:
        with self._count_lock:
            threads = sorted(set(self._threads))
            resolved = dict(self._resolved)
        return {
            "device": "CPU",
            "build": str(self._ov.get_version()),
            "precision_requested": self.precision,
            **resolved,
            "inference_num_threads": threads[0] if len(threads) == 1 else threads,
            "static_shapes": self._static,
            "compiled_models": self.instances_created,
        }
