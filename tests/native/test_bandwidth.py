"""Memory bandwidth and the roofline: the core's measurement (pinned threads, arrays as asked),
the last-level cache from sysfs fixtures, the bytes a decode token reads, ``pinbench machine``
and ``--roofline``. No timed assertion: a figure is only checked to be positive."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from decoder_factory import make_kv_decoder

from pinbench import _core
from pinbench.base.errors import UsageError
from pinbench.model.graph import read_model, tensor_bytes, weight_bytes
from pinbench.model.onnx_decode import TensorInfo
from pinbench.report.roofline import decode_line, format_cpu_list
from pinbench.result.roofline import (
    BandwidthRecord,
    DecodeRoofline,
    decode_roofline,
    mean_decode_past,
)
from pinbench.run.bandwidth import array_bytes
from pinbench.run.topology import topology

from conftest import SysfsTree
from subproc import run_pinbench

MIB = 2**20


def record(read_gbps: float = 10.0, llc_bytes: int = 32 * MIB) -> BandwidthRecord:
    return BandwidthRecord(
        cpus=(0,), affinity=((0,),), threads=1, array_bytes_per_thread=64 * MIB, arrays=3,
        repetitions=5, read_gbps=read_gbps, triad_gbps=read_gbps, llc_level=3,
        llc_bytes=llc_bytes, llc_instances=1, sizing="as asked",
    )  # fmt: skip


def test_core_measures_on_the_given_cpus(allowed_cpus: list[int]) -> None:
    cpus = allowed_cpus[:2]
    b = _core.measure_bandwidth(cpus, 2 * MIB, 2)
    assert b.cpus == cpus
    assert b.affinity == [[c] for c in cpus]  # read back inside each thread
    assert (b.array_bytes_per_thread, b.arrays, b.repetitions) == (2 * MIB, 3, 2)
    for value in (b.read_gbps, b.triad_gbps, b.read_seconds, b.triad_seconds):
        assert value > 0 and math.isfinite(value)
    with pytest.raises(RuntimeError, match="CPU -1"):
        _core.measure_bandwidth([-1], 2 * MIB, 1)
    with pytest.raises(ValueError, match="repetitions"):
        _core.measure_bandwidth(cpus, 2 * MIB, 0)


def test_last_level_cache_from_sysfs(sysfs: SysfsTree) -> None:
    one_socket = _core.read_last_level_cache(sysfs("vm_2core"), [0, 1])
    assert (one_socket.level, one_socket.bytes_each, one_socket.instances) == (3, 32 * MIB, 1)
    both = _core.read_last_level_cache(sysfs("2s_8c_2t"), [0, 8, 16])  # sockets 0, 1, 0
    assert (both.instances, both.total_bytes) == (2, 60 * MIB)
    none = _core.read_last_level_cache(sysfs("no_numa_4core"), [0])
    assert none.level == 0 and none.total_bytes == 0


def test_array_sizes_follow_the_cache_and_the_memory(sysfs: SysfsTree) -> None:
    llc = _core.read_last_level_cache(sysfs("2s_8c_2t"), [0, 8])  # 2 x 30 MiB
    each, why = array_bytes(llc, 2, None, None)
    assert each == 120 * MIB and "4x the 60 MiB" in why  # 4 x 60 MiB over 2 threads
    no_cache = _core.read_last_level_cache(sysfs("no_numa_4core"), [0])
    each, why = array_bytes(no_cache, 4, None, None)
    assert each == 16 * MIB and "64 MiB" in why  # the floor
    each, why = array_bytes(llc, 2, 64, None)
    assert each == 32 * MIB and "as asked" in why
    each, why = array_bytes(llc, 2, None, 360 * MIB)  # 3 arrays x 2 threads in half of it
    assert each == 30 * MIB and "capped" in why
    with pytest.raises(UsageError, match="not enough memory"):
        array_bytes(llc, 2, None, 4 * MIB)


def test_tensor_and_weight_bytes(tmp_path: Path) -> None:
    assert tensor_bytes(TensorInfo("w", (1024, 1024), data_type=1)) == 4 * MIB
    assert tensor_bytes(TensorInfo("h", (3, 5), data_type=10)) == 30  # float16
    assert tensor_bytes(TensorInfo("q", (3,), data_type=22)) == 2  # int4: 12 bits, rounded up
    assert tensor_bytes(TensorInfo("s", (4,), data_type=8)) == 0  # strings have no size
    for external in (False, True):
        folder = tmp_path / str(external)
        folder.mkdir()
        path = make_kv_decoder(folder, layers=2, heads=2, head_dim=8, vocab=64,
                               max_positions=128, external_data=external)  # fmt: skip
        total, gathered = weight_bytes(read_model("m", path))
        # The embedding tables (64 tokens and 128 positions x hidden 16, float32) are gathered.
        assert gathered == (64 + 128) * 16 * 4
        assert total > gathered


def test_bytes_a_decode_token_reads() -> None:
    # A prefill of 16 then 15 decode calls at past 16..30: the mean past is 23.
    assert mean_decode_past(16, 16, 0) == 23.0
    assert mean_decode_past(0, 4, 10) == 11.5  # decode only: past 10..13
    assert mean_decode_past(8, 1, 0) is None  # the prefill makes the only token
    d = decode_roofline(
        record(read_gbps=10.0, llc_bytes=32 * MIB),
        weight_bytes=200_000_000 + 1_000_000,
        gathered_bytes=1_000_000,
        cache_bytes_per_token=1000,  # one token of one sequence, every layer
        mean_past_tokens=23.0,
        batch_size=2,
        decode_tokens_per_sec=20.0,
    )
    assert d.weight_bytes == 200_000_000
    assert d.cache_bytes == 2 * 23 * 1000
    assert d.bytes_per_token == (200_000_000 + 46_000) / 2  # a call makes one token a sequence
    assert d.achieved_bytes_per_sec == pytest.approx(d.bytes_per_token * 20)
    assert d.share == pytest.approx(d.achieved_bytes_per_sec / 10e9)
    assert not d.in_cache
    line = decode_line(d, record())
    assert line.startswith("Roofline: decode reads 100.0 MB a token; 2.0 GB/s achieved of")
    assert line.endswith("10.0 GB/s measured (20%)")


def test_a_model_in_cache_is_said_so() -> None:
    def small(weights: int, tokens_per_sec: float) -> DecodeRoofline:
        return decode_roofline(
            record(), weight_bytes=weights, gathered_bytes=0, cache_bytes_per_token=10,
            mean_past_tokens=4.0, batch_size=1, decode_tokens_per_sec=tokens_per_sec,
        )  # fmt: skip

    d = small(MIB, 1e6)  # 1 MB a token x 1e6 tokens/s = 1e12 B/s: above the 10 GB/s
    assert d.in_cache and d.fits_in_cache and d.share is None
    assert "above the 10.0 GB/s measured: it fits in the 32 MiB last-level cache: the bound is "\
        "compute or cache, not memory" in decode_line(d, record())  # fmt: skip
    d = small(MIB, 1e3)  # in the cache, below the bandwidth: the share, and the note
    assert d.in_cache and d.share == pytest.approx((MIB + 40) * 1e3 / 10e9)
    assert decode_line(d, record()).endswith(
        "(10%); fits in the 32 MiB last-level cache: the bound is compute or cache, not memory"
    )
    # Above the LLC, but reading faster than memory: said so, no share above 100%.
    d = small(64 * MIB, 1e3)
    assert d.in_cache and not d.fits_in_cache and d.share is None
    assert "above the 10.0 GB/s measured: part of it stays in cache" in decode_line(d, record())


def test_cpu_list_text() -> None:
    assert format_cpu_list([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"
    assert format_cpu_list(list(topology().allowed)) == _core.format_cpu_list(
        list(topology().allowed)
    )


def test_machine_command(tmp_path: Path, allowed_cpus: list[int]) -> None:
    out = tmp_path / "m.json"
    r = run_pinbench("machine", "--cores", "1", "--bandwidth-mib", "8", "--repetitions", "2",
            "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    for label in ("CPUs:", "Last-Level Cache:", "Memory Bandwidth (GB/s): read",
                  "Bandwidth CPUs:"):  # fmt: skip
        assert label in r.stdout
    doc = json.loads(out.read_text())["pinbench"]
    assert doc["document"] == "machine" and doc["schema_version"] == 1
    assert doc["topology"]["allowed_cpus"] == allowed_cpus
    b = doc["bandwidth"]
    assert b["threads"] == 1 and len(b["cpus"]) == 1 and b["affinity"] == [b["cpus"]]
    assert b["array_bytes_per_thread"] == 8 * MIB and b["repetitions"] == 2
    assert b["read_gbps"] > 0 and b["triad_gbps"] > 0
    bad = run_pinbench("machine", "--cores", "0")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_roofline_on_a_small_generate_run(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path)
    out = tmp_path / "r.json"
    r = run_pinbench(str(model), "-s", "generate", "--prompt-tokens", "4", "--new-tokens", "4",
            "-t", "0.3", "-w", "0.05", "--roofline", "--bandwidth-mib", "8",
            "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Memory Bandwidth (GB/s): read" in r.stdout
    assert "last-level cache: the bound is compute or cache, not memory" in r.stdout
    roof: dict[str, Any] = json.loads(out.read_text())["pinbench"]["roofline"]
    b = roof["bandwidth"]
    assert b["read_gbps"] > 0 and b["affinity"] == [[c] for c in b["cpus"]]
    d = roof["decode"]
    assert d["mean_past_tokens"] == 5.0  # decode calls at past 4, 5, 6
    assert d["in_cache"] and d["fits_in_cache"]
    assert d["bytes_per_token"] > 0 and d["decode_tokens_per_sec"] > 0


def test_roofline_without_generate_records_the_bandwidth(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = run_pinbench("squeezenet", "-s", "sync", "-t", "0.2", "-w", "0", "--roofline",
            "--bandwidth-mib", "8", "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    roof = json.loads(out.read_text())["pinbench"]["roofline"]
    assert roof["decode"] is None and roof["bandwidth"]["threads"] >= 1
