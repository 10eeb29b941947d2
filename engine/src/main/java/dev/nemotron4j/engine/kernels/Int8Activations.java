package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.I;

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
 *   <li>Q6_K: groups of 256 (one super-block); pairs are neighbours {@code (2j, 2j+1)}, or for a {@link Q6Groups}
 *       copy {@code (16j + 2k, 16j + 2k + 1)} at {@code 16k + j}; {@code corr} holds {@code 32 · Σ q} per 16 values
 *       (the weights are stored as {@code q6 + 32}).</li>
 *   <li>Q4_0: groups of 32 (one block); pairs are {@code (i, i+16)} inside a block, as the low and high nibbles of
 *       weight byte {@code i}; no {@code corr} (the kernel removes the weights' +8 before multiplying).</li>
 *   <li>{@link Repacked} Q4_0 and Q8_0: groups of 32, laid out per group of 16 blocks as the repacked words are
 *       (lane {@code j} for block {@code j}); for Q4_0 {@code corr} holds {@code 8·2¹⁶·Σq} per block (the stored
 *       nibbles are value + 8).</li>
 * </ul>
 * One instance per calling thread is reused across calls; it grows, never shrinks.
 */
final class Int8Activations {
    private static final ThreadLocal<Int8Activations> PER_THREAD = ThreadLocal.withInitial(Int8Activations::new);


    int[] packed = new int[0];
    float[] scale = new float[0];
    float[] corr = new float[0];

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
     * {@code s} pairs values {@code (2s, 2s+1)} (see {@link PackedIntDot#dotQ8Rows}). Q6_K ({@code len} a multiple of
     * 256): per super-block, vector {@code k}, lane {@code j} pairs values {@code (16j + 2k, 16j + 2k + 1)} (see
     * {@link Q6Groups}).
     */
    Int8Activations prepare(DType dtype, boolean repacked, float[] x, int len) {
        ensure(dtype, len);
        quantize(dtype, repacked, x, 0, len / groupSize(dtype));
        return this;
    }

    /**
     * Quantizes groups {@code [g0, g1)}: for repacked layouts whole groups of 16 blocks, in vectors (a {@link Repacked}
     * copy exists only where {@link PackedIntDot#REPACKED}: 16 or 8 float lanes); otherwise one block at a time.
     */
    private void quantize(DType dtype, boolean repacked, float[] x, int g0, int g1) {
        if (repacked && dtype == DType.Q6_K) for (int g = g0; g < g1; g++) quantizeGroup(dtype, true, x, g);
        else if (repacked) for (int gg = g0 / 16; gg < g1 / 16; gg++) quantizeRepacked(dtype, x, gg);
        else for (int g = g0; g < g1; g++) quantizeGroup(dtype, false, x, g);
    }

    private static int groupSize(DType dtype) {
        return dtype == DType.Q6_K ? 256 : 32;
    }

    private void ensure(DType dtype, int len) {
        int groups = len / groupSize(dtype);
        if (packed.length < len / 2) packed = new int[len / 2];
        if (scale.length < groups) scale = new float[groups];
        if (dtype == DType.Q6_K && corr.length < len / 16) corr = new float[len / 16];
        if (dtype == DType.Q4_0 && corr.length < groups) corr = new float[groups];
    }

    /** {@code round(x[i] · inv)}, the int8 value of activation {@code i}. */
    private static int q(float[] x, int i, float inv) {
        return Math.round(x[i] * inv);
    }

    /**
     * The bits of |v| are those of v with the sign cleared, and for |v| (NaN included) the integer order of the bits is
     * the float order: so a block's maximum |v| is taken as an integer maximum of these ({@code vpmaxsd}, one cycle),
     * the same value as {@code FloatVector.max} of the absolute values, which C2 emits as a compare-and-blend sequence
     * for Java's NaN and −0 rules (bench/NOTES.md, step 42).
     */
    static final int ABS_BITS = 0x7fffffff;

    /** Lane {@code j} reads value {@code 32j}: one vector gathers the same position of 16 consecutive blocks. */
    private static final int[] BLOCK_STRIDE = new int[16];
    /** Round to nearest by adding and removing 1.5·2²³ (exact for |v| &lt; 2²²; ties to even). */
    static final float ROUNDER = 0x1.8p23f;
    /**
     * Per thread: one group of 16 blocks transposed (value {@code k} of block {@code j} at {@code 16k + j}), then the
     * blocks' 127/amax at {@code 512 ‥ 528} for {@link #q4Pairs} and {@link #pair}.
     */
    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[512 + 16]);

    static {
        for (int j = 0; j < 16; j++) BLOCK_STRIDE[j] = 32 * j;
    }

    /**
     * Quantizes the 16 blocks of group {@code gg} (values {@code 512·gg ‥}) for a {@link Repacked} matrix, lane
     * {@code j} for block {@code j} as the words are laid out: the group is gathered transposed once, then the
     * block maxima, scales and rounded pairs are whole vectors; with 8 float lanes (AVX2) in two halves, blocks 0‥7
     * then 8‥15 (one value at a time before; bench/NOTES.md, step 73).
     */
    private void quantizeRepacked(DType dtype, float[] x, int gg) {
        float[] t = TRANSPOSED.get();
        int x0 = 512 * gg, base = 256 * gg;
        for (int j0 = 0; j0 < 16; j0 += F.length()) {
            IntVector bits = IntVector.zero(I);
            for (int k = 0; k < 32; k++) {
                FloatVector v = FloatVector.fromArray(F, x, x0 + 32 * j0 + k, BLOCK_STRIDE, 0);
                v.intoArray(t, 16 * k + j0);
                bits = bits.max(v.reinterpretAsInts().and(ABS_BITS));
            }
            FloatVector amax = bits.reinterpretAsFloats();
            amax.div(127f).intoArray(scale, 16 * gg + j0);
            FloatVector.broadcast(F, 127f).div(amax).intoArray(t, 512 + j0);   // ∞ for a block of zeros (see q4Pairs)
            if (dtype == DType.Q8_0) {
                for (int s = 0; s < 16; s++) pair(t, 32 * s + j0, 32 * s + 16 + j0, t, 512 + j0, packed, base + 16 * s + j0);
                continue;
            }
            q4Pairs(t, j0, 16, t, 512 + j0, packed, base + j0, 16);
            // lane j: Σ q over block j, read back from the 16 pairs (q[a] << 16) + q[b] just stored: with |q[b]| ≤
            // 127, (v + 2¹⁵) >> 16 is q[a] and v − (q[a] << 16) is q[b]. (Returning the sums from pair() made it
            // return a vector; where C2 did not inline it, past its node-count cutoff, every call boxed one.)
            IntVector sum = IntVector.zero(I);
            for (int s = 0; s < 16; s++) {
                IntVector v = IntVector.fromArray(I, packed, base + 16 * s + j0);
                IntVector hi = v.add(0x8000).lanewise(VectorOperators.ASHR, 16);
                sum = sum.add(hi).add(v.sub(hi.lanewise(VectorOperators.LSHL, 16)));
            }
            // the kernel's weights carry +8, so it subtracts 8·2¹⁶·Σq
            ((FloatVector) sum.convert(VectorOperators.I2F, 0)).mul(Q4_OFFSET).intoArray(corr, 16 * gg + j0);
        }
    }

    /** The order {@link #q4Pairs} takes a Q4_0 block's values in: step {@code s} pairs {@code Q4_STEP[s]} with it + 2. */
    static final int[] Q4_STEP = new int[16];

    static {
        int[] first = {0, 16, 1, 17};
        for (int s = 0; s < 16; s++) Q4_STEP[s] = 4 * (s / 4) + first[s % 4];
    }

    /** {@code 8 · 2¹⁶}: Q4_0 repacked decode multiplies the stored nibbles (value + 8) and removes this times Σq. */
    private static final float Q4_OFFSET = 8f * 65536f;

    /**
     * The 16 Q4_0 pair steps of a transposed block of 16 lanes ({@code t[t0 + tStride·k + j]} is value {@code k} of
     * lane {@code j}, {@code inv[i0 ‥ i0+16)} each lane's 127/amax): step {@code s = 4i + v} is the pair {@code (a, a + 2)} with
     * {@code a = 4i + (0, 16, 1, 17)[v]}, the order {@link Repacked}'s Q4_0 words hold their nibble pairs in, stored at
     * {@code dst[d0 + s·stride ‥ +16)}. Lanes are blocks here (decode) and tokens in {@link PairTiles#quantize} and
     * {@link PairTiles#panelActivated}.
     *
     * <p>A block of zeros has amax 0 and {@code inv} ∞: 0·∞ is NaN, which the conversion to int turns into 0 (Java's
     * cast, which the Vector API keeps), so it rounds to zeros, its scale 0. The callers used to replace that ∞ by 0
     * with {@code blend(0f, amax.eq(0f))}, which C2 at times left un-inlined in the large methods around it, boxing a
     * vector per block (bench/NOTES.md, step 51). For the same reason {@code inv} comes in an array, not as a vector:
     * where C2 did not inline this method (prefill's {@code PairTiles.quantizeBlock}), a vector argument was boxed
     * at every call, 3 MB a small-model prefill (step 62).
     */
    static void q4Pairs(float[] t, int t0, int tStride, float[] inv, int i0, int[] dst, int d0, int stride) {
        for (int i = 0; i < 4; i++) {
            int a = t0 + tStride * 4 * i, d = d0 + 4 * i * stride;
            pair(t, a, a + 2 * tStride, inv, i0, dst, d);
            pair(t, a + 16 * tStride, a + 18 * tStride, inv, i0, dst, d + stride);
            pair(t, a + tStride, a + 3 * tStride, inv, i0, dst, d + 2 * stride);
            pair(t, a + 17 * tStride, a + 19 * tStride, inv, i0, dst, d + 3 * stride);
        }
    }

    /**
     * {@code dst[p ‥ p+16) = (q[a] << 16) + q[b]}, {@code q = round(t·inv)} of the lanes at {@code t[a]}, {@code t[b]},
     * {@code inv} the lanes at {@code inv[i0]}.
     */
    private static void pair(float[] t, int a, int b, float[] invs, int i0, int[] dst, int p) {
        FloatVector inv = FloatVector.fromArray(F, invs, i0);
        IntVector qa = (IntVector) FloatVector.fromArray(F, t, a).mul(inv).add(ROUNDER).sub(ROUNDER)
                .convert(VectorOperators.F2I, 0);
        IntVector qb = (IntVector) FloatVector.fromArray(F, t, b).mul(inv).add(ROUNDER).sub(ROUNDER)
                .convert(VectorOperators.F2I, 0);
        qa.lanewise(VectorOperators.LSHL, 16).add(qb).intoArray(dst, p);
    }

    /**
     * Quantizes group {@code g} of {@code x} into its scale and packed pairs, independent of the others: in the order of
     * GGUF rows, or with {@code q6Groups} in that of a {@link Q6Groups} copy.
     */
    private void quantizeGroup(DType dtype, boolean q6Groups, float[] x, int g) {
        int group = groupSize(dtype);
        int x0 = g * group;
        float amax = 0;
        for (int i = 0; i < group; i++) amax = Math.max(amax, Math.abs(x[x0 + i]));
        float inv = amax == 0 ? 0 : 127f / amax;
        scale[g] = amax / 127f;
        if (dtype == DType.Q6_K) {
            if (q6Groups) {
                // pair (16j + 2k, 16j + 2k + 1) at 16k + j: vector k, lane j of a Q6Groups super-block
                for (int k = 0; k < 8; k++) {
                    for (int j = 0; j < 16; j++) {
                        int a = x0 + 16 * j + 2 * k;
                        packed[x0 / 2 + 16 * k + j] = (q(x, a, inv) << 16) + q(x, a + 1, inv);
                    }
                }
            } else {
                for (int j = 0; j < group / 2; j++) packed[x0 / 2 + j] = (q(x, x0 + 2 * j, inv) << 16) + q(x, x0 + 2 * j + 1, inv);
            }
            for (int s = 0; s < group / 16; s++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) sum += q(x, x0 + 16 * s + i, inv);
                corr[x0 / 16 + s] = 32f * sum;
            }
        } else {
            for (int i = 0; i < 16; i++) packed[x0 / 2 + i] = (q(x, x0 + i, inv) << 16) + q(x, x0 + i + 16, inv);
        }
    }
}
