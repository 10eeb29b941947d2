package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;

/** Element-wise MLP activations, in place. */
public final class Activations {
    private Activations() {
    }

    /** x = relu(x)² (Nemotron's squared ReLU). */
    public static void squaredRelu(float[] x, int off, int n) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, off + i).max(zero);
            v.mul(v).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            float v = Math.max(x[off + i], 0f);
            x[off + i] = v * v;
        }
    }

    /** up = silu(gate) ⊙ up (SwiGLU), silu(g) = g / (1 + e^(−g)). */
    public static void swiglu(float[] gate, int gOff, float[] up, int uOff, int n) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            FloatVector silu = g.div(one.add(g.neg().lanewise(VectorOperators.EXP)));
            silu.mul(FloatVector.fromArray(F, up, uOff + i)).intoArray(up, uOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            up[uOff + i] = (float) (g / (1.0 + Math.exp(-g))) * up[uOff + i];
        }
    }

    /** x += y. */
    public static void addInPlace(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i).add(FloatVector.fromArray(F, y, yOff + i)).intoArray(x, xOff + i);
        }
        for (; i < n; i++) x[xOff + i] += y[yOff + i];
    }
}
