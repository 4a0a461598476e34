"""Reference side of the safetensors tests: the Python `safetensors` package (Rust reader/writer)
and huggingface_hub's shard planner, used only as oracles.

  safetensors_check.py list FILE             load FILE with safetensors.torch.load_file, print a listing
  safetensors_check.py save FILE             write the reference tensor set with save_file, print its listing
  safetensors_check.py shards FOLDER MAX     compare FOLDER's index with huggingface_hub's split at MAX bytes

A listing is one line per metadata entry ("__metadata__ key=value"), then one line per tensor in name
order: "name DTYPE [shape] hex-of-raw-little-endian-bytes". The C++ tests build the same text.
"""
import json
import os
import sys

import torch
from huggingface_hub import split_torch_state_dict_into_shards
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPE_NAMES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
    torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64",
}


def listing(tensors, metadata):
    lines = [f"__metadata__ {k}={v}" for k, v in sorted((metadata or {}).items())]
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes().hex()
        lines.append(f"{name} {DTYPE_NAMES[t.dtype]} {list(t.shape)} {raw}")
    return "\n".join(lines)


def reference_tensors():
    """One tensor per dtype plus a scalar and an empty tensor; values chosen to exercise signs,
    large integers and rounding (float8/bf16)."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(3, 4, generator=g, dtype=torch.float64)
    ints = torch.arange(-6, 6, dtype=torch.int64).reshape(3, 4)
    return {
        "f64": base,
        "f32": base.float().t().contiguous(),
        "f16": base.half(),
        "bf16": base.bfloat16().reshape(12),
        "f8_e4m3": base.to(torch.float8_e4m3fn),
        "f8_e5m2": base.to(torch.float8_e5m2),
        "i64": ints * 123456789012,
        "i32": (ints * 100000).int(),
        "i16": (ints * 1000).short(),
        "i8": ints.to(torch.int8),
        "u8": (ints + 6).to(torch.uint8) * 20,
        "u16": (ints + 6).to(torch.uint16),
        "u32": (ints + 6).to(torch.uint32),
        "u64": (ints + 6).to(torch.uint64),
        "bool": ints % 3 == 0,
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
        "layers.0.attn.q_proj.weight": base.float(),
    }


def metadata_of(path):
    with safe_open(path, framework="pt") as f:
        return f.metadata()


def check_shards(folder, max_bytes):
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        index = json.load(f)
    state = {}
    for shard in sorted(set(index["weight_map"].values())):
        state.update(load_file(os.path.join(folder, shard)))
    state = {name: state[name] for name in sorted(state)}  # the C++ writer plans in name order
    split = split_torch_state_dict_into_shards(state, filename_pattern="model{suffix}.safetensors",
                                               max_shard_size=max_bytes)
    problems = []
    if split.tensor_to_filename != index["weight_map"]:
        problems.append(f"weight_map differs: reference {split.tensor_to_filename} ours {index['weight_map']}")
    if split.metadata["total_size"] != index["metadata"]["total_size"]:
        problems.append(f"total_size: reference {split.metadata['total_size']} ours {index['metadata']['total_size']}")
    for shard in split.filename_to_tensors:
        if metadata_of(os.path.join(folder, shard)) != {"format": "pt"}:
            problems.append(f"{shard}: metadata is not {{'format': 'pt'}}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"ok {len(split.filename_to_tensors)} shards")


def main():
    command, *args = sys.argv[1:]
    if command == "list":
        print(listing(load_file(args[0]), metadata_of(args[0])))
    elif command == "save":
        tensors = reference_tensors()
        save_file(tensors, args[0], metadata={"format": "pt"})
        print(listing(tensors, {"format": "pt"}))
    elif command == "shards":
        check_shards(args[0], int(args[1]))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
