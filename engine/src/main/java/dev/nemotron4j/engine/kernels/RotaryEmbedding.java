package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.config.RopeScaling;
import jdk.incubator.vector.FloatVector;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;

/**
 * Rotary embedding over the first {@code rotaryDim} dims of each head; the rest pass through. Pair j turns by
 * pos·invFreq[j]. Rotate-half (NeoX, the Hugging Face and Megatron convention) pairs element j with
 * j + rotaryDim/2; interleaved (Meta's and llama.cpp's GGUF Llama layout) pairs 2j with 2j+1. Frequencies are
 * computed once in double, with the optional rescaling applied there.
 */
public final class RotaryEmbedding {
    private final int rotaryDim;
    private final double[] invFreq;
    private final boolean interleaved;

    public RotaryEmbedding(int rotaryDim, double theta, RopeScaling scaling) {
        this(rotaryDim, theta, scaling, false);
    }

    public RotaryEmbedding(int rotaryDim, double theta, RopeScaling scaling, boolean interleaved) {
        this.rotaryDim = rotaryDim;
        this.interleaved = interleaved;
        this.invFreq = new double[rotaryDim / 2];
        for (int j = 0; j < invFreq.length; j++) {
            double f = 1.0 / Math.pow(theta, (2.0 * j) / rotaryDim);
            invFreq[j] = scaling == null ? f : scaling.scale(j, f);
        }
    }

    public int rotaryDim() {
        return rotaryDim;
    }

    /** Fills cos/sin[j] for position {@code pos}, j in [0, rotaryDim/2). */
    public void angles(int pos, float[] cos, float[] sin, int off) {
        for (int j = 0; j < invFreq.length; j++) {
            double a = pos * invFreq[j];
            cos[off + j] = (float) Math.cos(a);
            sin[off + j] = (float) Math.sin(a);
        }
    }

    /** Rotates {@code heads} consecutive heads of {@code headDim} floats starting at {@code off}. */
    public void apply(float[] x, int off, int heads, int headDim, float[] cos, float[] sin, int csOff) {
        int half = rotaryDim / 2;
        if (interleaved) {
            for (int h = 0; h < heads; h++) {
                int base = off + h * headDim;
                for (int j = 0; j < half; j++) {
                    float a = x[base + 2 * j], b = x[base + 2 * j + 1];
                    float c = cos[csOff + j], s = sin[csOff + j];
                    x[base + 2 * j] = a * c - b * s;
                    x[base + 2 * j + 1] = b * c + a * s;
                }
            }
            return;
        }
        int vectors = half / LANES * LANES;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            // whole vectors first: the same multiplies and subtraction per lane as the scalar loop (same results)
            for (int j = 0; j < vectors; j += LANES) {
                FloatVector a = FloatVector.fromArray(F, x, base + j), b = FloatVector.fromArray(F, x, base + j + half);
                FloatVector c = FloatVector.fromArray(F, cos, csOff + j), s = FloatVector.fromArray(F, sin, csOff + j);
                a.mul(c).sub(b.mul(s)).intoArray(x, base + j);
                b.mul(c).add(a.mul(s)).intoArray(x, base + j + half);
            }
            for (int j = vectors; j < half; j++) {
                float a = x[base + j], b = x[base + j + half];
                float c = cos[csOff + j], s = sin[csOff + j];
                x[base + j] = a * c - b * s;
                x[base + j + half] = b * c + a * s;
            }
        }
    }
}
