package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.config.RopeScaling;

/**
 * Rotate-half (NeoX) rotary embedding over the first {@code rotaryDim} dims of each head; the rest pass
 * through. Element j pairs with j + rotaryDim/2 at angle pos·invFreq[j]. Frequencies are computed once in
 * double, with the optional rescaling (llama3, linear) applied there.
 */
public final class RotaryEmbedding {
    private final int rotaryDim;
    private final double[] invFreq;

    public RotaryEmbedding(int rotaryDim, double theta, RopeScaling scaling) {
        this.rotaryDim = rotaryDim;
        this.invFreq = new double[rotaryDim / 2];
        for (int j = 0; j < invFreq.length; j++) {
            double f = 1.0 / Math.pow(theta, (2.0 * j) / rotaryDim);
            invFreq[j] = scaling == null ? f : scaling.scale(f);
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
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int j = 0; j < half; j++) {
                float a = x[base + j], b = x[base + j + half];
                float c = cos[csOff + j], s = sin[csOff + j];
                x[base + j] = a * c - b * s;
                x[base + j + half] = b * c + a * s;
            }
        }
    }
}
