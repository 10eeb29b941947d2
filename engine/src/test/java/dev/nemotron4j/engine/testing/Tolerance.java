package dev.nemotron4j.engine.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The acceptance tolerance for logits: |got − want| ≤ 1e-3 × max(1, max|want|) at every entry of a row. */
public final class Tolerance {
    private Tolerance() {
    }

    public static void assertLogitsClose(float[] want, float[] got, int gotOff, String where) {
        double scale = 1;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        double tol = 1e-3 * scale;
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(want[i] - got[gotOff + i]);
            if (!(d <= worst)) {
                worst = d;
                worstAt = i;
            }
        }
        if (!(worst <= tol)) {
            fail(where + ": logit " + worstAt + " is " + got[gotOff + worstAt] + ", expected " + want[worstAt]
                    + " (|diff| " + worst + " > tolerance " + tol + ")");
        }
    }

    public static void assertLogitsClose(double[] want, float[] got, int gotOff, String where) {
        float[] w = new float[want.length];
        for (int i = 0; i < w.length; i++) w[i] = (float) want[i];
        assertLogitsClose(w, got, gotOff, where);
        assertEquals(want.length, w.length);
    }
}
