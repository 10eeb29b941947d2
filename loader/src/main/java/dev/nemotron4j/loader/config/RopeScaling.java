package dev.nemotron4j.loader.config;

import java.util.Arrays;

/**
 * How rotary frequencies are rescaled for long context. {@code LLAMA3} follows Llama 3.1's wavelength-dependent
 * formula; {@code LINEAR} divides every frequency by {@code factor}; {@code FACTORS} divides frequency j by
 * {@code factors[j]} (how GGUF files carry llama3 scaling: a {@code rope_freqs} tensor).
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositions, double[] factors) {
    public enum Type { LINEAR, LLAMA3, FACTORS }

    public RopeScaling {
        factors = factors == null ? null : factors.clone();
    }

    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, positive("factor", factor), 0, 0, 0, null);
    }

    public static RopeScaling llama3(double factor, double low, double high, int originalMax) {
        if (!(high > low) || originalMax <= 0) {
            throw new IllegalArgumentException("llama3 rope scaling needs high_freq_factor > low_freq_factor and a positive "
                    + "original_max_position_embeddings, got " + high + ", " + low + ", " + originalMax);
        }
        return new RopeScaling(Type.LLAMA3, positive("factor", factor), positive("low_freq_factor", low), high, originalMax, null);
    }

    /** Scaling factors divide frequencies: zero, negative or not finite would run and give garbage. */
    private static double positive(String what, double v) {
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException("rope scaling " + what + " must be positive, got " + v);
        return v;
    }

    public static RopeScaling perDimension(double[] factors) {
        for (double f : factors) positive("per-dimension factor (rope_freqs)", f);
        return new RopeScaling(Type.FACTORS, 0, 0, 0, 0, factors);
    }

    @Override
    public double[] factors() {
        return factors == null ? null : factors.clone();
    }

    /** The frequency that replaces {@code invFreq} (radians per position) of rotary pair {@code j}. */
    public double scale(int j, double invFreq) {
        return switch (type) {
            case LINEAR -> invFreq / factor;
            case FACTORS -> invFreq / factors[j];
            case LLAMA3 -> {
                double wavelength = 2 * Math.PI / invFreq;
                double lowWavelength = originalMaxPositions / lowFreqFactor;
                double highWavelength = originalMaxPositions / highFreqFactor;
                if (wavelength < highWavelength) {
                    yield invFreq;
                } else if (wavelength > lowWavelength) {
                    yield invFreq / factor;
                } else {
                    double s = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                    yield (1 - s) * invFreq / factor + s * invFreq;
                }
            }
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RopeScaling r && r.type == type && r.factor == factor && r.lowFreqFactor == lowFreqFactor
                && r.highFreqFactor == highFreqFactor && r.originalMaxPositions == originalMaxPositions
                && Arrays.equals(r.factors, factors);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.hashCode(factors) + Double.hashCode(factor);
    }

    @Override
    public String toString() {
        return switch (type) {
            case LINEAR -> "linear×" + factor;
            case LLAMA3 -> "llama3(factor " + factor + ", low " + lowFreqFactor + ", high " + highFreqFactor + ", original "
                    + originalMaxPositions + ")";
            case FACTORS -> "per-dimension factors " + Arrays.toString(factors);
        };
    }
}
