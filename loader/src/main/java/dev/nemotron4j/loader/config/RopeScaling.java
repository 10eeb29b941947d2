package dev.nemotron4j.loader.config;

/**
 * How rotary frequencies are rescaled for long context. {@code LLAMA3} follows Llama 3.1's
 * wavelength-dependent formula; {@code LINEAR} divides every frequency by {@code factor}.
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositions) {
    public enum Type { LINEAR, LLAMA3 }

    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }

    public static RopeScaling llama3(double factor, double low, double high, int originalMax) {
        return new RopeScaling(Type.LLAMA3, factor, low, high, originalMax);
    }

    /** The frequency that replaces {@code invFreq} (radians per position). */
    public double scale(double invFreq) {
        return switch (type) {
            case LINEAR -> invFreq / factor;
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
}
