"""What ``/proc/cpuinfo`` says of the CPU: its blocks, the model's name and the instruction-set
flags every CPU has. Pure functions of the file's text. Example::

    >>> blocks = cpuinfo_blocks("processor\\t: 0\\nmodel name\\t: Xeon\\nflags\\t: avx2 fma\\n")
    >>> cpu_model(blocks), isa_flags(blocks)
    ('Xeon', ['avx2', 'fma'])
"""

from __future__ import annotations

# Instruction-set flags that matter for inference kernels, in report order. x86 names are those of
# the "flags" line of /proc/cpuinfo; Arm names those of its "Features" line ("neon" on 32-bit Arm,
# "asimd" on AArch64). Older kernels spell AVX-512 VNNI "avx512vnni".
_ISA_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512vnni",
    "avx_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "amx_fp16",
    "neon",
    "asimd",
    "asimddp",
    "i8mm",
    "bf16",
    "sve",
    "sve2",
    "sme",
)

# Arm "CPU implementer" codes and the (implementer, "CPU part") pairs common on servers; anything
# else is reported by its codes.
_ARM_IMPLEMENTERS = {
    "0x41": "Arm",
    "0x42": "Broadcom",
    "0x46": "Fujitsu",
    "0x48": "HiSilicon",
    "0x4e": "NVIDIA",
    "0x50": "Ampere (APM)",
    "0x51": "Qualcomm",
    "0x61": "Apple",
    "0xc0": "Ampere",
}
_ARM_PARTS = {
    ("0x41", "0xd08"): "Cortex-A72",
    ("0x41", "0xd0b"): "Cortex-A76",
    ("0x41", "0xd0c"): "Neoverse-N1",
    ("0x41", "0xd40"): "Neoverse-V1",
    ("0x41", "0xd49"): "Neoverse-N2",
    ("0x41", "0xd4f"): "Neoverse-V2",
    ("0x41", "0xd8e"): "Neoverse-N3",
    ("0x41", "0xd84"): "Neoverse-V3",
    ("0x46", "0x001"): "A64FX",
    ("0x48", "0xd01"): "Kunpeng-920",
    ("0xc0", "0xac3"): "AmpereOne",
}


def cpuinfo_blocks(text: str) -> list[dict[str, str]]:
    """Split /proc/cpuinfo into one key/value dict per blank-line separated block."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def cpu_model(blocks: list[dict[str, str]]) -> str:
    for block in blocks:
        for key in ("model name", "Model Name", "cpu model", "Processor"):
            if block.get(key):
                return block[key]
    for block in blocks:
        implementer = block.get("CPU implementer", "").lower()
        part = block.get("CPU part", "").lower()
        if implementer:
            vendor = _ARM_IMPLEMENTERS.get(implementer, f"implementer {implementer}")
            name = _ARM_PARTS.get((implementer, part), f"part {part}" if part else "")
            return f"{vendor} {name}".strip()
    for block in blocks:
        if block.get("Hardware"):
            return block["Hardware"]
    return "unknown"


def isa_flags(blocks: list[dict[str, str]]) -> list[str]:
    flag_sets = [
        set((block.get("flags") or block.get("Features") or "").split())
        for block in blocks
        if "flags" in block or "Features" in block
    ]
    if not flag_sets:
        return []
    common = set.intersection(*flag_sets)
    return [flag for flag in _ISA_FLAGS if flag in common]
