"""Tiny random Llama models built offline into onnxruntime-genai model folders.

A Llama made from a config with random weights (no hub access), saved with the offline WordLevel
tokenizer of ``export_tiny`` (the builder copies one into its output), then built by
onnxruntime-genai's own model builder as its users run it:
``python -m onnxruntime_genai.models.builder -i HF_FOLDER -o OUT -p fp32 -e cpu``. The output
folder holds ``genai_config.json`` and ``model.onnx`` (+ ``model.onnx.data``), which is what
``pinbench -e onnxruntime-genai`` and ``-e onnxruntime -s generate`` both run. Needs torch,
transformers 5.x, onnx_ir and onnxruntime-genai (the CI genai job installs them); pinbench
itself needs none of them.

    python tests/decoders/build_genai.py OUT_DIR [--size tiny|small] [--precision fp32|int4]
        # writes OUT_DIR/genai_config.json, OUT_DIR/model.onnx, ...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import the sibling as the tests do
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from decoders.export_tiny import MODELS, _tokenizer

# tiny: the tests' model (export_tiny's Llama: 2 layers, 4 heads, 2 KV heads, head size 16).
# small: the benchmark's, big enough that a token is more than the per-call overhead.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": dict(MODELS["llama"][1]),
    "small": {
        **MODELS["llama"][1],
        "hidden_size": 512,
        "intermediate_size": 1408,
        "num_hidden_layers": 4,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "max_position_embeddings": 1024,
    },
}


def _save_llama(size: str, folder: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)  # the same weights on every run, so a failure reproduces
    LlamaForCausalLM(LlamaConfig(**SIZES[size])).save_pretrained(folder)
    _tokenizer(folder)


def build(out_dir: str | Path, size: str = "tiny", precision: str = "fp32") -> Path:
    """Builds the ``size`` Llama into ``out_dir`` (created); returns it. RuntimeError with the
    builder's last output when it fails."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="genai-llama-") as tmp:
        hf = Path(tmp) / "hf"
        # In a child process, so that HF_HUB_OFFLINE is read before transformers is imported.
        code = (
            "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[3]); "
            "from decoders.build_genai import _save_llama; "
            "_save_llama(sys.argv[1], Path(sys.argv[2]))"
        )
        tests = str(Path(__file__).resolve().parent.parent)
        _run([sys.executable, "-c", code, size, str(hf), tests], env)
        # The builder's cache folder defaults to ./cache_dir: keep it out of the caller's folder.
        _run(
            [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf), "-o",
             str(out), "-p", precision, "-e", "cpu", "-c", str(Path(tmp) / "cache")],
            env,
        )  # fmt: skip
    return out


def _run(command: list[str], env: dict[str, str]) -> None:
    r = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{(r.stdout + r.stderr)[-4000:]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size", choices=list(SIZES), default="tiny")
    parser.add_argument("--precision", choices=["fp32", "int4"], default="fp32")
    args = parser.parse_args()
    folder = build(args.out_dir, args.size, args.precision)
    print("\n".join(sorted(p.name for p in folder.iterdir())))
