package dev.nemotron4j.engine.generate;

/** Argmax, lowest id on ties. */
public final class Greedy {
    private Greedy() {
    }

    public static int argmax(float[] logits, int off, int n) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = logits[off + i];
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return best;
    }

    public static int argmax(float[] logits) {
        return argmax(logits, 0, logits.length);
    }
}
