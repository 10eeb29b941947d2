#!/usr/bin/python3
"""Builds a torch_dist (PyTorch DCP) .nemo directory from the zarr fixture's weights, for tests.

Chunk blobs are written with the real torch.save (Debian's python3-torch). The .metadata pickle is made
with dataclasses registered under the module and class names PyTorch's distributed checkpoint uses
(torch.distributed.checkpoint.metadata.*, torch.distributed.checkpoint.filesystem._StorageInfo), because
Debian's torch 1.13 predates that package; the pickled globals are the same ones a real DCP save writes.
Layer-stacked tensors are chunked per layer and per tensor-parallel rank (as Megatron saves them) into
__0_0.distcp and __1_0.distcp. Usage: make-torchdist-fixture.py ZARR_NEMO_DIR OUT_NEMO_DIR
"""
import dataclasses, io, json, os, pickle, shutil, sys, types
from typing import Any, List, Optional
import torch

def module(name):
    m = types.ModuleType(name)
    sys.modules[name] = m
    return m

meta_mod = module("torch.distributed.checkpoint.metadata")
fs_mod = module("torch.distributed.checkpoint.filesystem")

def register(mod, cls):
    cls.__module__ = mod.__name__
    cls.__qualname__ = cls.__name__
    setattr(mod, cls.__name__, cls)
    return cls

@dataclasses.dataclass
class ChunkStorageMetadata:
    offsets: Any
    sizes: Any

@dataclasses.dataclass
class TensorProperties:
    dtype: Any = None
    requires_grad: bool = False

@dataclasses.dataclass
class TensorStorageMetadata:
    properties: Any
    size: Any
    chunks: List[Any]

@dataclasses.dataclass(frozen=True)
class MetadataIndex:
    fqn: str
    offset: Optional[Any] = None
    index: Optional[int] = dataclasses.field(hash=False, compare=False, default=None)

@dataclasses.dataclass
class Metadata:
    state_dict_metadata: Any
    planner_data: Any = None
    storage_data: Any = None

@dataclasses.dataclass
class _StorageInfo:
    relative_path: str
    offset: int
    length: int

for c in (ChunkStorageMetadata, TensorProperties, TensorStorageMetadata, MetadataIndex, Metadata):
    register(meta_mod, c)
register(fs_mod, _StorageInfo)

def read_zarr(path):
    meta = json.load(open(os.path.join(path, ".zarray")))
    shape, chunks = meta["shape"], meta["chunks"]
    assert meta["dtype"] == "bfloat16"
    full = torch.zeros(shape, dtype=torch.bfloat16)
    grid = [s // c for s, c in zip(shape, chunks)]
    import itertools
    for idx in itertools.product(*[range(g) for g in grid]):
        raw = open(os.path.join(path, ".".join(map(str, idx))), "rb").read()
        t = torch.frombuffer(bytearray(raw), dtype=torch.int16).view(torch.bfloat16).reshape(chunks)
        sl = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks))
        full[sl] = t
    return full

def main(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(os.path.join(dst, "model_weights"))
    for f in os.listdir(src):
        if f != "model_weights":
            shutil.copy(os.path.join(src, f), dst)
    wdir = os.path.join(src, "model_weights")
    files = {0: io.BytesIO(), 1: io.BytesIO()}
    sd_meta, storage = {}, {}
    for key in sorted(os.listdir(wdir)):
        if not os.path.isdir(os.path.join(wdir, key)):
            continue
        full = read_zarr(os.path.join(wdir, key))
        chunks = []
        if key.startswith("model.decoder.layers.") and full.dim() == 3:
            split = 2 if "linear_fc2" in key or "linear_proj" in key else 1  # row-parallel: columns split
            for layer in range(full.shape[0]):
                for rank in range(2):
                    offs, sizes = [layer, 0, 0], [1, full.shape[1], full.shape[2]]
                    axis = split if split == 2 else 1
                    n = full.shape[axis] // 2
                    offs[axis], sizes[axis] = rank * n, n
                    chunks.append((offs, sizes, rank))
        else:
            chunks.append(([0] * full.dim(), list(full.shape), 0))
        metas = []
        for offs, sizes, rank in chunks:
            sl = tuple(slice(o, o + s) for o, s in zip(offs, sizes))
            piece = full[sl].contiguous().clone()
            buf = io.BytesIO()
            torch.save(piece, buf)
            blob = buf.getvalue()
            f = files[rank]
            start = f.tell()
            f.write(blob)
            metas.append(ChunkStorageMetadata(offsets=torch.Size(offs), sizes=torch.Size(sizes)))
            storage[MetadataIndex(fqn=key, offset=torch.Size(offs), index=0)] = _StorageInfo(
                relative_path="__%d_0.distcp" % rank, offset=start, length=len(blob))
        sd_meta[key] = TensorStorageMetadata(properties=TensorProperties(dtype=torch.bfloat16),
                                             size=torch.Size(list(full.shape)), chunks=metas)
    for rank, f in files.items():
        open(os.path.join(dst, "model_weights", "__%d_0.distcp" % rank), "wb").write(f.getvalue())
    with open(os.path.join(dst, "model_weights", ".metadata"), "wb") as f:
        pickle.dump(Metadata(state_dict_metadata=sd_meta, planner_data={}, storage_data=storage), f, protocol=2)
    json.dump({"sharded_backend": "torch_dist", "sharded_backend_version": 1, "common_backend": "torch",
               "common_backend_version": 1}, open(os.path.join(dst, "model_weights", "metadata.json"), "w"))
    yaml = open(os.path.join(dst, "model_config.yaml")).read()
    open(os.path.join(dst, "model_config.yaml"), "w").write(yaml)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
