#!/usr/bin/python3
"""Builds a tp_rank_XX_pp_rank_YYY .nemo (TP=2 × PP=2) from the mp_rank_XX fixture, with Debian's python3-torch.

Each pipeline stage keeps half of the layers under local indices (0..L/PP-1); the embedding lives on stage 0,
the final norm and output layer on the last stage, as Megatron saves them. Usage: SRC.nemo OUT.nemo
"""
import io, re, sys, tarfile, torch

def main(src, dst):
    with tarfile.open(src, "r:") as t:
        members = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    ranks = [torch.load(io.BytesIO(members["./mp_rank_%02d/model_weights.ckpt" % r])) for r in range(2)]
    layers = 1 + max(int(m.group(1)) for k in ranks[0] for m in [re.search(r"layers\.(\d+)\.", k)] if m)
    per_stage = layers // 2
    out = {}
    for tp, sd in enumerate(ranks):
        for pp in range(2):
            stage = {}
            for k, v in sd.items():
                m = re.search(r"layers\.(\d+)\.", k)
                if m:
                    layer = int(m.group(1))
                    if layer // per_stage != pp:
                        continue
                    k = k.replace("layers.%d." % layer, "layers.%d." % (layer - pp * per_stage))
                elif "word_embeddings" in k and pp != 0:
                    continue
                elif ("final_layernorm" in k or "output_layer" in k) and pp != 1:
                    continue
                stage[k] = v
            buf = io.BytesIO()
            torch.save(stage, buf)
            out["./tp_rank_%02d_pp_rank_%03d/model_weights.ckpt" % (tp, pp)] = buf.getvalue()
    yaml = members["./model_config.yaml"].decode().replace("pipeline_model_parallel_size: 1", "pipeline_model_parallel_size: 2")
    with tarfile.open(dst, "w:") as t:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        add("./model_config.yaml", yaml.encode())
        for name, data in members.items():
            if name.endswith(".model"):
                add(name, data)
        for name, data in out.items():
            add(name, data)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
