package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;

/** Causal scaled dot-product attention of one query head against one KV head's cached positions. */
public final class Attention {
    private Attention() {
    }

    /**
     * out[0..headDim) = Σ_τ softmax_τ(q·k_τ · scale) v_τ over τ in [0, length). Keys and values are float rows
     * of {@code headDim} at byte {@code base + τ·headDim·4} of their segments. {@code scores} is scratch of
     * at least {@code length}.
     */
    public static void attend(float[] q, int qOff, MemorySegment keys, MemorySegment values, long base, int headDim,
                              int length, float scale, float[] scores, float[] out, int outOff) {
        long rowBytes = 4L * headDim;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < length; t++) {
            float s = VectorDot.dot(q, qOff, keys, base + t * rowBytes, headDim) * scale;
            scores[t] = s;
            if (s > max) max = s;
        }
        float sum = expInPlace(scores, length, max);
        float inv = 1f / sum;
        java.util.Arrays.fill(out, outOff, outOff + headDim, 0f);
        for (int t = 0; t < length; t++) {
            VectorDot.axpy(scores[t] * inv, values, base + t * rowBytes, out, outOff, headDim);
        }
    }

    /** s[i] = exp(s[i] − max); returns Σ s. */
    static float expInPlace(float[] s, int n, float max) {
        FloatVector vmax = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector e = FloatVector.fromArray(F, s, i).sub(vmax).lanewise(VectorOperators.EXP);
            e.intoArray(s, i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s[i] = (float) Math.exp(s[i] - max);
            sum += s[i];
        }
        return sum;
    }
}
