"""Tiny decoders made offline and exported the way users export them (Optimum's ONNX exporter).

Randomly initialised models from configs (no hub access), each saved with an offline WordLevel
tokenizer beside it because the exporter loads one, then exported with
`optimum.exporters.onnx.main_export`, the function `optimum-cli export onnx` calls, for the task
`text-generation-with-past`. Needs torch, transformers and optimum-onnx (the CI decoder job
installs them); pinbench itself needs none of them.

    python tests/decoders/export_tiny.py OUT_DIR      # writes OUT_DIR/<name>/model.onnx and a
                                                      # OUT_DIR/manifest.json of inputs and outputs
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

VOCAB_SIZE = 256
MAX_POSITIONS = 128

# name -> (architecture, config keyword arguments). The attention shapes are what the tests
# check the exports against: Llama has grouped-query attention (4 heads, 2 KV heads), GPT-2 not.
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "llama": (
        "llama",
        {
            "vocab_size": VOCAB_SIZE,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": MAX_POSITIONS,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "pad_token_id": 0,
        },
    ),
    "gpt2": (
        "gpt2",
        {
            "vocab_size": VOCAB_SIZE,
            "n_embd": 64,
            "n_layer": 2,
            "n_head": 4,
            "n_positions": MAX_POSITIONS,
            "bos_token_id": 1,
            "eos_token_id": 2,
        },
    ),
}

# What a test needs to know about each export without reading the exporter's config: the cache's
# head count and head size, and the layer count (one key and one value per layer).
ATTENTION: dict[str, dict[str, int]] = {
    "llama": {"layers": 2, "kv_heads": 2, "head_dim": 16},
    "gpt2": {"layers": 2, "kv_heads": 4, "head_dim": 16},
}

MANIFEST = "manifest.json"


def _tokenizer(folder: Path) -> None:
    """A WordLevel tokenizer over VOCAB_SIZE made-up words, saved where the exporter looks."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<s>", "</s>", "<unk>"]
    words = special + [f"w{i}" for i in range(VOCAB_SIZE - len(special))]
    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
    )
    fast.save_pretrained(folder)


def _save_model(name: str, folder: Path) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    arch, kwargs = MODELS[name]
    torch.manual_seed(0)  # the same weights on every run, so a failure reproduces
    model: Any
    if arch == "llama":
        model = LlamaForCausalLM(LlamaConfig(**kwargs))
    else:
        model = GPT2LMHeadModel(GPT2Config(**kwargs))
    model.save_pretrained(folder)
    _tokenizer(folder)


def _describe(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Inputs and outputs as the ONNX graph declares them: name, element type, dims."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)

    def values(vs: Any) -> list[dict[str, Any]]:
        out = []
        for v in vs:
            t = v.type.tensor_type
            dims = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
            out.append(
                {"name": v.name, "type": onnx.TensorProto.DataType.Name(t.elem_type), "dims": dims}
            )
        return out

    inits = {i.name for i in model.graph.initializer}
    return {
        "inputs": values(v for v in model.graph.input if v.name not in inits),
        "outputs": values(model.graph.output),
    }


def export(name: str, out_dir: Path) -> dict[str, Any]:
    from optimum.exporters.onnx import main_export

    target = out_dir / name
    with tempfile.TemporaryDirectory(prefix=f"tiny-{name}-") as tmp:
        _save_model(name, Path(tmp))
        main_export(
            tmp,
            output=target,
            task="text-generation-with-past",
            local_files_only=True,
        )
    files = sorted(p.name for p in target.glob("*.onnx"))
    return {
        "onnx_files": files,
        "attention": ATTENTION[name],
        **_describe(target / "model.onnx"),
    }


def main(out_dir: str | Path, names: list[str] | None = None) -> dict[str, Any]:
    """Exports each model into out_dir/<name>/ and writes out_dir/manifest.json; returns it."""
    # Set before transformers or huggingface_hub is first imported (they read it once, at import;
    # this module imports them only inside its functions), so nothing reaches for the hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {name: export(name, out) for name in (names or list(MODELS))}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _print(manifest: dict[str, Any]) -> None:
    for name, rec in manifest.items():
        print(f"{name}: {', '.join(rec['onnx_files'])}")
        for kind in ("inputs", "outputs"):
            for v in rec[kind]:
                print(f"  {kind[:-1]:6} {v['name']:28} {v['type']:8} {v['dims']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--models", nargs="*", choices=list(MODELS), default=None)
    args = parser.parse_args()
    _print(main(args.out_dir, args.models))
    sys.exit(0)
