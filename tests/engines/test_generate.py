"""-s generate: a KV-cache decoder's requests (a prefill, then decode calls feeding each present
back as the next past), timed call by call on real ONNX Runtime sessions and pinned threads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from decoder_factory import make_kv_decoder
from onnx import helper

import pinbench
from pinbench.model.decoder import GenerationRequest
from pinbench.result.generation import generation_figures
from pinbench.result.measurement import Measurement, StreamMeasurement, Totals

from subproc import run_pinbench, run_pinbench_json

FAST = ["-t", "0.3", "-w", "0.05"]


@pytest.fixture(scope="module")
def decoders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("decoders")
    return {
        c: make_kv_decoder(folder, convention=c, name=f"{c}.onnx")
        for c in ("optimum", "past_key_value")
    }


def test_request_shape() -> None:
    r = GenerationRequest(prompt_tokens=8, new_tokens=4, depth=2, greedy=True, seed=0)
    assert r.calls == 4  # the prefill gives the first token, three decode calls the rest
    assert [r.past_length(k) for k in range(r.calls)] == [2, 10, 11, 12]
    assert [r.new_length(k) for k in range(r.calls)] == [8, 1, 1, 1]
    assert r.max_length == 13
    tg = GenerationRequest(prompt_tokens=0, new_tokens=3, depth=5, greedy=False, seed=0)
    assert (tg.calls, [tg.past_length(k) for k in range(3)], tg.max_length) == (3, [5, 6, 7], 8)
    pp = GenerationRequest(prompt_tokens=16, new_tokens=0, depth=0, greedy=True, seed=0)
    assert (pp.calls, pp.max_length) == (1, 16)


@pytest.mark.parametrize("convention", ["optimum", "past_key_value"])
def test_generate_grows_the_cache_and_reports_tokens(
    tmp_path: Path, decoders: dict[str, Path], convention: str
) -> None:
    model = decoders[convention]
    before = hashlib.sha256(model.read_bytes()).hexdigest()
    args = ["-s", "generate", "--prompt-tokens", "6", "--new-tokens", "5", *FAST]
    data = run_pinbench_json(tmp_path, str(model), *args)
    p = data["pinbench"]
    g = p["generation"]
    # The engine's own outputs: each call's present is the past plus the tokens it fed.
    assert g["cache_lengths_checked"] == [6, 7, 8, 9, 10]
    assert g["calls_per_request"] == 5
    assert g["requests"] >= 1
    assert p["result"]["iterations"] == g["requests"] * 5  # whole requests only
    assert data["benchmark_result"]["iterations"] == p["result"]["iterations"]
    assert g["ttft_ms"]["count"] == g["requests"]
    assert g["tpot_ms"]["count"] == g["requests"] * 4
    for key in ("prefill_tokens_per_sec", "decode_tokens_per_sec", "output_tokens_per_sec"):
        assert g[key] > 0
    assert p["kv_cache"]["convention"] in ("past_key_values", "past_key_value")
    # 2 layers x key and value x [1, 2 heads, 10 tokens, 8] float32 at the request's end
    assert g["kv_cache_bytes_per_stream"] == 4 * 2 * 10 * 8 * 4
    assert p["config"]["scenario"] == "generate"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == before


def test_console_lines(tmp_path: Path, decoders: dict[str, Path]) -> None:
    r = run_pinbench(str(decoders["optimum"]), "-s", "generate", "--prompt-tokens", "4",
            "--new-tokens", "3", *FAST)  # fmt: skip
    assert r.returncode == 0, r.stderr
    for label in ("Generation Requests:", "Time To First Token (ms):",
                  "Time Per Output Token (ms):", "Request Latency (ms):", "Tokens/sec:",
                  "KV Cache (MiB):"):  # fmt: skip
        assert label in r.stdout


def test_ttft_and_tpot_add_up_to_the_request(decoders: dict[str, Path]) -> None:
    result = pinbench.benchmark(
        str(decoders["optimum"]),
        scenario="generate",
        prompt_tokens=5,
        new_tokens=4,
        time=0.3,
        warmup_time=0.05,
    )
    g = result.generation
    assert g is not None and g.ttft_ms and g.tpot_ms and g.tpot_per_request_ms
    assert g.request_latency_ms is not None
    s = result.measurement.streams[0]
    starts, ends = s.starts_ns.reshape(-1, 4), s.ends_ns.reshape(-1, 4)
    assert np.all(starts[:, 1:] >= ends[:, :-1])  # one request's calls, in order
    ttft = ends[:, 0] - starts[:, 0]
    latency = ends[:, -1] - starts[:, 0]
    assert np.all(ttft + (ends[:, 1:] - starts[:, 1:]).sum(axis=1) <= latency)
    per_token = (latency - ttft) / 3  # MLPerf's TPOT of a request
    assert g.tpot_per_request_ms.mean == pytest.approx(per_token.mean() / 1e6)
    assert g.ttft_ms.mean == pytest.approx(ttft.mean() / 1e6)
    assert g.request_latency_ms.mean == pytest.approx(latency.mean() / 1e6)


def _measured(starts: np.ndarray, ends: np.ndarray) -> Measurement:
    d = ends - starts
    totals = Totals(int(d.size), int(d.sum()), float((d.astype(float) ** 2).sum()),
                    int(d.min()), int(d.max()), int(starts[0]), int(ends[-1]))  # fmt: skip
    stream = StreamMeasurement(0, (), (), 0, starts, ends, 0, totals)
    return Measurement(
        [stream], 0.0, 1.0, None, False, None, int(starts[0]), None, calls_per_unit=3
    )


def test_figures_of_constructed_requests() -> None:
    # Two requests of a prefill (10 ms) and two decode calls (2 ms, 3 ms), 1 ms apart.
    starts = np.array([0, 11, 14, 100, 111, 114], np.int64) * 1_000_000
    ends = np.array([10, 13, 17, 110, 113, 117], np.int64) * 1_000_000
    m = _measured(starts, ends)
    g = generation_figures(m, prompt_tokens=8, new_tokens=3, depth=0, batch_size=2,
                           tokens="fixed", kv_cache_bytes=None, cache_lengths=())  # fmt: skip
    assert g.requests == 2
    assert g.ttft_ms is not None and g.ttft_ms.mean == pytest.approx(10.0)
    assert g.tpot_ms is not None and g.tpot_ms.mean == pytest.approx(2.5)
    assert g.tpot_per_request_ms is not None and g.tpot_per_request_ms.mean == pytest.approx(3.5)
    assert g.prefill_tokens_per_sec == pytest.approx(2 * 8 * 2 / 0.020)
    assert g.decode_tokens_per_sec == pytest.approx(2 * 4 / 0.010)


@pytest.mark.parametrize(
    ("flags", "calls", "lengths"),
    [
        (["--prompt-tokens", "12", "--new-tokens", "0"], 1, [12]),  # llama-bench's pp
        (["--prompt-tokens", "0", "--new-tokens", "4"], 4, [1, 2, 3, 4]),  # tg
        (["--prompt-tokens", "0", "--new-tokens", "3", "--depth", "7"], 3, [8, 9, 10]),
        (
            ["--prompt-tokens", "3", "--new-tokens", "2", "--depth", "5", "--tokens", "fixed"],
            2,
            [8, 9],
        ),
    ],
)
def test_prompt_only_decode_only_and_depth(
    tmp_path: Path, decoders: dict[str, Path], flags: list[str], calls: int, lengths: list[int]
) -> None:
    g = run_pinbench_json(tmp_path, str(decoders["optimum"]), "-s", "generate", *flags, *FAST)[
        "pinbench"
    ]["generation"]
    assert g["calls_per_request"] == calls
    assert g["cache_lengths_checked"] == lengths
    if "--prompt-tokens" in flags and flags[flags.index("--prompt-tokens") + 1] == "0":
        assert g["ttft_ms"] is None and g["prefill_tokens_per_sec"] is None
    if calls == 1:
        assert g["tpot_ms"] is None and g["decode_tokens_per_sec"] is None


def test_streams_batches_and_processes(tmp_path: Path, decoders: dict[str, Path]) -> None:
    model = str(decoders["past_key_value"])
    base = ["-s", "generate", "--prompt-tokens", "4", "--new-tokens", "3", *FAST]
    two = run_pinbench_json(tmp_path, model, *base, "-nstreams", "2")["pinbench"]
    assert len(two["generation"]["streams"]) == 2
    assert all(s["requests"] >= 1 for s in two["generation"]["streams"])
    batch = run_pinbench_json(tmp_path, model, *base, "-b", "2")["pinbench"]
    assert batch["generation"]["batch_size"] == 2
    process = run_pinbench_json(tmp_path, model, *base, "-nstreams", "2", "--isolation", "process")
    g = process["pinbench"]["generation"]
    assert g["cache_lengths_checked"] == [4, 5, 6]
    assert all(s["requests"] >= 1 for s in g["streams"])


def _without_present(model: Path, folder: Path) -> Path:
    """The decoder with its first present output renamed: no output feeds that past back."""
    m = onnx.load(str(model))
    out = m.graph.output[1]
    m.graph.node.append(helper.make_node("Identity", [out.name], ["layer0_key_out"]))
    out.name = "layer0_key_out"
    path = folder / "no_present.onnx"
    onnx.save(m, str(path))
    return path


def test_usage_errors(tmp_path: Path, decoders: dict[str, Path]) -> None:
    model = str(decoders["optimum"])
    cases = [
        (["squeezenet", "-s", "generate"], "has no cache input"),
        ([model, "-s", "sync", "--prompt-tokens", "4"], "add -s generate"),
        (
            [model, "-s", "generate", "--prompt-tokens", "0", "--new-tokens", "0"],
            "--prompt-tokens or --new-tokens",
        ),
        ([model, "-s", "generate", "-e", "openvino"], "does not"),
        (
            [str(_without_present(decoders["optimum"], tmp_path)), "-s", "generate"],
            "no present output for past_key_values.0.key",
        ),
    ]
    for args, text in cases:
        r = run_pinbench(*args, *FAST)
        assert r.returncode == 2, (args, r.stderr)
        assert text in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


# --- generation under load: requests arriving open-loop (-s generate --qps) ---------------------


def test_served_requests_count_from_their_arrival(decoders: dict[str, Path]) -> None:
    model = str(decoders["optimum"])
    shape = {"prompt_tokens": 8, "new_tokens": 4, "warmup_time": 0.05}
    closed = pinbench.benchmark(model, scenario="generate", time=0.3, **shape)
    assert closed.generation is not None and closed.generation.requests_per_sec > 0
    capacity = closed.generation.requests_per_sec
    # Five times what one stream serves: the queue grows, and the time to first token with it.
    served = pinbench.benchmark(model, scenario="generate", qps=5 * capacity, time=0.3, **shape)
    g, m = served.generation, served.measurement
    assert g is not None and g.queueing_ms is not None and g.ttft_ms is not None
    assert m.calls_per_unit == 4 and served.server is not None
    assert served.server.arrivals_served == g.requests  # a query is a whole request
    s = m.streams[0]
    assert s.scheduled_ns is not None
    sched = s.scheduled_ns.reshape(-1, 4)
    starts, ends = s.starts_ns.reshape(-1, 4), s.ends_ns.reshape(-1, 4)
    assert np.all(starts[:, 0] >= sched[:, 0])  # the first call waits for its arrival
    assert np.all(sched[:, 1:] == starts[:, 1:])  # the others count from their own start
    ttft = (ends[:, 0] - sched[:, 0]) / 1e6
    assert g.ttft_ms.mean == pytest.approx(ttft.mean())
    first_call = (ends[:, 0] - starts[:, 0]) / 1e6
    assert g.queueing_ms.mean == pytest.approx((ttft - first_call).mean())
    # TPOT is the decode calls' own time: the queue is in TTFT only.
    decode = (ends[:, 1:] - starts[:, 1:]).ravel() / 1e6
    assert g.tpot_ms is not None and g.tpot_ms.mean == pytest.approx(decode.mean())
    assert g.queueing_ms.mean > first_call.mean()  # overloaded: queued longer than served


def test_find_qps_on_token_targets(decoders: dict[str, Path]) -> None:
    model = str(decoders["optimum"])
    shape = {"scenario": "generate", "prompt_tokens": 8, "new_tokens": 4, "warmup_time": 0.05}
    r = pinbench.find_qps(
        model, ttft_slo_ms=1000, tpot_slo_ms=1000, time=0.4, probe_time=0.3, max_trials=3,
        **shape,
    )  # fmt: skip
    q = r.config.find_qps
    assert q is not None and q.best_qps is not None and q.best_qps > 0
    assert q.ttft_slo_ms == 1000 and q.tpot_slo_ms == 1000 and q.latency_slo_ms is None
    assert all(t.ttft_ms is not None and t.tpot_ms is not None for t in q.trials)
    assert q.target == "p99 TTFT <= 1000 ms, p99 TPOT <= 1000 ms"
    assert r.generation is not None and r.server is not None
    with pytest.raises(pinbench.RunError, match="no rate can meet p99 TPOT <= 1e-06 ms"):
        pinbench.find_qps(model, tpot_slo_ms=1e-6, time=0.3, probe_time=0.2, **shape)


def test_token_targets_are_for_generate(tmp_path: Path, decoders: dict[str, Path]) -> None:
    model = str(decoders["optimum"])
    cases = [
        (["squeezenet", "-s", "server", "--find-qps", "--ttft-slo", "2s"], "-s generate"),
        ([model, "-s", "generate", "--find-qps", "--latency-slo", "2ms"], "--ttft-slo"),
        ([model, "-s", "generate", "--ttft-slo", "2s"], "targets of -s generate --find-qps"),
        ([model, "-s", "sync", "--qps", "3"], "--qps applies to -s server"),
    ]
    for args, text in cases:
        r = run_pinbench(*args, *FAST)
        assert r.returncode == 2, (args, r.stderr)
        assert text in r.stderr, (args, r.stderr)
