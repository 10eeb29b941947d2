package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;

/** Normalisation kernels over one row of {@code n} floats; statistics in F32, two passes for LayerNorm. */
public final class Norms {
    private Norms() {
    }

    /** out = (x − mean)/sqrt(var + eps) · gamma + beta (beta may be null). Biased variance, as PyTorch. */
    public static void layerNorm(float[] x, int xOff, float[] out, int outOff, int n, float[] gamma, float[] beta,
                                 float eps) {
        float mean = sum(x, xOff, n) / n;
        FloatVector vm = FloatVector.broadcast(F, mean);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector d = FloatVector.fromArray(F, x, xOff + i).sub(vm);
            acc = d.fma(d, acc);
        }
        float var = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float d = x[xOff + i] - mean;
            var += d * d;
        }
        var /= n;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        FloatVector vinv = FloatVector.broadcast(F, inv);
        i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector y = FloatVector.fromArray(F, x, xOff + i).sub(vm).mul(vinv).mul(FloatVector.fromArray(F, gamma, i));
            if (beta != null) y = y.add(FloatVector.fromArray(F, beta, i));
            y.intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = (x[xOff + i] - mean) * inv * gamma[i] + (beta != null ? beta[i] : 0f);
        }
    }

    /** out = x / sqrt(mean(x²) + eps) · gamma. */
    public static void rmsNorm(float[] x, int xOff, float[] out, int outOff, int n, float[] gamma, float eps) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            acc = v.fma(v, acc);
        }
        float ss = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) ss += x[xOff + i] * x[xOff + i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        FloatVector vinv = FloatVector.broadcast(F, inv);
        i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i).mul(vinv).mul(FloatVector.fromArray(F, gamma, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = x[xOff + i] * inv * gamma[i];
    }

    static float sum(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) acc = acc.add(FloatVector.fromArray(F, x, off + i));
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[off + i];
        return s;
    }
}
