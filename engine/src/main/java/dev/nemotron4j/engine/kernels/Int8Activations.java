package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;

/**
 * Activations quantized to int8 once per matrix-vector product, for the integer dot products of
 * {@link PackedIntDot} (the approach of llama.cpp's Q8_0/Q8_K activations). Each group of {@code G} values gets a
 * float scale {@code dx = max|x| / 127} and int8 values {@code q = round(x / dx)}.
 *
 * <p>The int8 values are stored two per int, as {@code (q[a] << 16) + q[b]}, where {@code a} and {@code b} are the
 * two weights a packed weight lane holds in its low and high 16 bits. One 32-bit multiply of such a pair by a lane
 * {@code wa + (wb << 16)} leaves {@code wa·q[a] + wb·q[b]} in the upper half (see {@link PackedIntDot}), so one
 * multiply serves two weights.
 *
 * <ul>
 *   <li>Q6_K: groups of 256 (one super-block); pairs are neighbours {@code (2j, 2j+1)}; {@code corr} holds
 *       {@code 32 · Σ q} per 16 values (the weights are stored as {@code q6 + 32}).</li>
 *   <li>Q4_0: groups of 32 (one block); pairs are {@code (i, i+16)} inside a block, as the low and high nibbles of
 *       weight byte {@code i}; no {@code corr} (the kernel removes the weights' +8 before multiplying).</li>
 *   <li>{@link Repacked} Q4_0 and Q8_0: groups of 32, laid out per group of 16 blocks as the repacked words are
 *       (lane {@code j} for block {@code j}).</li>
 * </ul>
 * One instance per calling thread is reused across calls; it grows, never shrinks.
 */
final class Int8Activations {
    private static final ThreadLocal<Int8Activations> PER_THREAD = ThreadLocal.withInitial(Int8Activations::new);

    int[] packed = new int[0];
    float[] scale = new float[0];
    float[] corr = new float[0];
    private final byte[] q8 = new byte[256];

    static Int8Activations forThisThread() {
        return PER_THREAD.get();
    }

    /** Whether {@code dtype} has an integer kernel and rows of {@code cols} values split into its groups. */
    static boolean supports(DType dtype, int cols) {
        if (!PackedIntDot.AVAILABLE) return false;
        return switch (dtype) {
            case Q6_K -> cols % 256 == 0;
            case Q4_0 -> cols % 32 == 0;
            default -> false;
        };
    }

    /** Quantizes {@code x[0 .. len)} for weights of {@code dtype}; {@code len} is a multiple of the group size. */
    Int8Activations prepare(DType dtype, float[] x, int len) {
        return prepare(dtype, false, x, len);
    }

    /**
     * As {@link #prepare(DType, float[], int)}; {@code repacked} lays the pairs out for a {@link Repacked} matrix of
     * {@code dtype} ({@code len} a multiple of 512): per group of 16 blocks, 256 ints, lane {@code j} for block
     * {@code j}. Q4_0: word {@code i} and shift {@code v} (see {@link PackedIntDot#dotQ4Repacked}); Q8_0: word
     * {@code s} pairs values {@code (2s, 2s+1)} (see {@link PackedIntDot#dotQ8Repacked}).
     */
    Int8Activations prepare(DType dtype, boolean repacked, float[] x, int len) {
        int group = dtype == DType.Q6_K ? 256 : 32;
        int groups = len / group;
        if (packed.length < len / 2) packed = new int[len / 2];
        if (scale.length < groups) scale = new float[groups];
        if (dtype == DType.Q6_K && corr.length < len / 16) corr = new float[len / 16];
        for (int g = 0; g < groups; g++) {
            int x0 = g * group;
            float amax = 0;
            for (int i = 0; i < group; i++) amax = Math.max(amax, Math.abs(x[x0 + i]));
            float dx = amax / 127f, inv = amax == 0 ? 0 : 127f / amax;
            scale[g] = dx;
            for (int i = 0; i < group; i++) q8[i] = (byte) Math.round(x[x0 + i] * inv);
            if (dtype == DType.Q6_K) {
                for (int j = 0; j < group / 2; j++) packed[x0 / 2 + j] = (q8[2 * j] << 16) + q8[2 * j + 1];
                for (int s = 0; s < group / 16; s++) {
                    int sum = 0;
                    for (int i = 0; i < 16; i++) sum += q8[16 * s + i];
                    corr[x0 / 16 + s] = 32f * sum;
                }
            } else if (repacked && dtype == DType.Q8_0) {
                int base = (g / 16) * 256 + g % 16;
                for (int i = 0; i < 16; i++) packed[base + 16 * i] = (q8[2 * i] << 16) + q8[2 * i + 1];
            } else if (repacked) {
                int base = (g / 16) * 256 + g % 16;
                for (int i = 0; i < 4; i++) {
                    int a = 4 * i;
                    packed[base + 64 * i] = (q8[a] << 16) + q8[a + 2];
                    packed[base + 64 * i + 16] = (q8[a + 16] << 16) + q8[a + 18];
                    packed[base + 64 * i + 32] = (q8[a + 1] << 16) + q8[a + 3];
                    packed[base + 64 * i + 48] = (q8[a + 17] << 16) + q8[a + 19];
                }
            } else {
                for (int i = 0; i < 16; i++) packed[x0 / 2 + i] = (q8[i] << 16) + q8[i + 16];
            }
        }
        return this;
    }
}
