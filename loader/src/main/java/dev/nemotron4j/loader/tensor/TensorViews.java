package dev.nemotron4j.loader.tensor;

import dev.nemotron4j.loader.CheckpointException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Re-arrangements of tensors that only move block coordinates or slice block bytes, never copy elements:
 * the tools for merging tensor-parallel shards, unstacking layers and splitting fused weights.
 */
public final class TensorViews {
    private TensorViews() {
    }

    /** Indices {@code [start, start+count)} of axis 0 (rows of a matrix, layers of a stacked tensor). */
    public static Tensor slice0(Tensor t, String name, long start, long count) {
        if (start < 0 || count < 0 || start + count > t.dim(0)) {
            throw new CheckpointException(t.origin() + ": tensor '" + t.name() + "' of shape " + Arrays.toString(t.shape())
                    + " has no rows [" + start + ", " + (start + count) + ")");
        }
        List<TensorBlock> out = new ArrayList<>();
        for (TensorBlock b : t.blocks()) {
            long lo = Math.max(start, b.start(0)), hi = Math.min(start + count, b.start(0) + b.size(0));
            if (lo >= hi) continue;
            long inner = Tensor.numel(b.shape()) / Math.max(1, b.size(0)); // elements per axis-0 index in the block
            long[] s = b.start(), sh = b.shape();
            s[0] = lo - start;
            sh[0] = hi - lo;
            long perIndex = t.dtype().bytesFor(inner);
            out.add(new TensorBlock(s, sh, b.data().asSlice((lo - b.start(0)) * perIndex, (hi - lo) * perIndex)));
        }
        long[] shape = t.shape();
        shape[0] = count;
        return new Tensor(name, t.dtype(), shape, out, t.origin());
    }

    /** Index {@code i} of axis 0 with that axis removed (one layer of a layer-stacked tensor). */
    public static Tensor select0(Tensor t, String name, long i) {
        Tensor s = slice0(t, name, i, 1);
        List<TensorBlock> out = new ArrayList<>();
        for (TensorBlock b : s.blocks()) {
            out.add(new TensorBlock(Arrays.copyOfRange(b.start(), 1, b.start().length),
                    Arrays.copyOfRange(b.shape(), 1, b.shape().length), b.data()));
        }
        return new Tensor(name, t.dtype(), Arrays.copyOfRange(t.shape(), 1, t.rank()), out, t.origin());
    }

    /** Tensors laid end to end along {@code axis}; all other dims and the dtype must agree. */
    public static Tensor concat(String name, int axis, List<Tensor> parts) {
        Tensor first = parts.getFirst();
        long[] shape = first.shape();
        shape[axis] = 0;
        List<TensorBlock> out = new ArrayList<>();
        StringBuilder origin = new StringBuilder();
        for (Tensor p : parts) {
            long[] ps = p.shape();
            boolean compatible = p.dtype() == first.dtype() && ps.length == shape.length;
            for (int d = 0; compatible && d < ps.length; d++) compatible = d == axis || ps[d] == shape[d];
            if (!compatible) {
                throw new CheckpointException(p.origin() + ": tensor '" + p.name() + "' (" + p.dtype() + " "
                        + Arrays.toString(ps) + ") cannot be joined with '" + first.name() + "' (" + first.dtype() + " "
                        + Arrays.toString(first.shape()) + ") along axis " + axis);
            }
            for (TensorBlock b : p.blocks()) {
                long[] s = b.start();
                s[axis] += shape[axis];
                out.add(new TensorBlock(s, b.shape(), b.data()));
            }
            shape[axis] += ps[axis];
            if (!origin.toString().contains(p.origin())) origin.append(origin.isEmpty() ? "" : ", ").append(p.origin());
        }
        return new Tensor(name, first.dtype(), shape, out, origin.toString());
    }

    /**
     * Megatron's fused QKV {@code [(nh + 2ng)·hd, h]}, grouped per KV group as [q heads of the group, k, v],
     * split into q {@code [nh·hd, h]}, k and v {@code [ng·hd, h]} (spec §4.3).
     */
    public static Tensor[] splitFusedQkv(Tensor qkv, String qName, String kName, String vName, int heads, int kvHeads,
                                         int headDim) {
        int p = heads / kvHeads;
        long rows = (long) (heads + 2 * kvHeads) * headDim;
        if (qkv.rank() != 2 || qkv.dim(0) != rows) {
            throw new CheckpointException(qkv.origin() + ": tensor '" + qkv.name() + "' has shape "
                    + Arrays.toString(qkv.shape()) + ", expected [" + rows + ", hidden] for " + heads + " heads, "
                    + kvHeads + " KV groups of head_dim " + headDim);
        }
        List<Tensor> q = new ArrayList<>(), k = new ArrayList<>(), v = new ArrayList<>();
        long group = (long) (p + 2) * headDim;
        for (int g = 0; g < kvHeads; g++) {
            q.add(slice0(qkv, qName, g * group, (long) p * headDim));
            k.add(slice0(qkv, kName, g * group + (long) p * headDim, headDim));
            v.add(slice0(qkv, vName, g * group + (long) (p + 1) * headDim, headDim));
        }
        return new Tensor[]{concat(qName, 0, q), concat(kName, 0, k), concat(vName, 0, v)};
    }
}
