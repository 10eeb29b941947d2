package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;

/** Causal scaled dot-product attention of query heads against one KV head's cached positions. */
public final class Attention {
    private Attention() {
    }

    /** Cached positions per block: their keys (or values) stay in L1 while every query of a tile uses them. */
    static final int KEY_BLOCK = 32;

    /**
     * out[0..headDim) = Σ_τ softmax_τ(q·k_τ · scale) v_τ over τ in [0, length). Keys and values are float rows
     * of {@code headDim} at byte {@code base + τ·headDim·4} of their segments. {@code scores} is scratch of
     * at least {@code length}.
     */
    public static void attend(float[] q, int qOff, MemorySegment keys, MemorySegment values, long base, int headDim,
                              int length, float scale, float[] scores, float[] out, int outOff) {
        attendShared(q, qOff, 0, 1, 1, length - 1, keys, values, base, headDim, scale, scores, out, outOff, 0);
    }

    /**
     * Causal attention for a tile of queries that read the same KV head: {@code heads} consecutive query heads
     * ({@code headDim} apart) of {@code tokens} consecutive tokens ({@code qStride} apart in {@code q},
     * {@code outStride} in {@code out}), token {@code t} seeing positions {@code [0, start + t + 1)}. Positions go in
     * blocks of {@link #KEY_BLOCK} that every query of the tile uses before the next block is read, so a cached row
     * comes from memory once per tile, not once per query head (GQA) and token. {@code scores} is scratch of at
     * least {@code heads·tokens·(start + tokens)}.
     */
    public static void attendShared(float[] q, int q0, int qStride, int heads, int tokens, int start,
                                    MemorySegment keys, MemorySegment values, long base, int headDim, float scale,
                                    float[] scores, float[] out, int o0, int outStride) {
        long rowBytes = 4L * headDim;
        int span = start + tokens; // each query's scores row in the scratch
        for (int k0 = 0; k0 < span; k0 += KEY_BLOCK) {
            for (int t = 0; t < tokens; t++) {
                int k1 = Math.min(k0 + KEY_BLOCK, start + t + 1);
                for (int h = 0; h < heads; h++) {
                    int qOff = q0 + t * qStride + h * headDim, s0 = (t * heads + h) * span;
                    for (int p = k0; p < k1; p++) {
                        scores[s0 + p] = VectorDot.dot(q, qOff, keys, base + p * rowBytes, headDim) * scale;
                    }
                }
            }
        }
        for (int t = 0; t < tokens; t++) {
            int length = start + t + 1;
            for (int h = 0; h < heads; h++) {
                int s0 = (t * heads + h) * span;
                float max = Float.NEGATIVE_INFINITY;
                for (int p = s0; p < s0 + length; p++) max = Math.max(max, scores[p]);
                float inv = 1f / expInPlace(scores, s0, length, max);
                for (int p = s0; p < s0 + length; p++) scores[p] *= inv;
                int oOff = o0 + t * outStride + h * headDim;
                java.util.Arrays.fill(out, oOff, oOff + headDim, 0f);
            }
        }
        for (int k0 = 0; k0 < span; k0 += KEY_BLOCK) {
            for (int t = 0; t < tokens; t++) {
                int k1 = Math.min(k0 + KEY_BLOCK, start + t + 1);
                for (int h = 0; h < heads; h++) {
                    int oOff = o0 + t * outStride + h * headDim, s0 = (t * heads + h) * span;
                    for (int p = k0; p < k1; p++) VectorDot.axpy(scores[s0 + p], values, base + p * rowBytes, out, oOff, headDim);
                }
            }
        }
    }

    /** s[i] = exp(s[i] − max) for i in {@code [from, from + n)}; returns their sum. */
    static float expInPlace(float[] s, int from, int n, float max) {
        FloatVector vmax = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        int i = from, end = from + n;
        for (int bound = end - LANES; i <= bound; i += LANES) {
            FloatVector e = FloatVector.fromArray(F, s, i).sub(vmax).lanewise(VectorOperators.EXP);
            e.intoArray(s, i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            s[i] = (float) Math.exp(s[i] - max);
            sum += s[i];
        }
        return sum;
    }
}
