package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.gguf.QuantCodec;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The 256-bit (AVX2) kernels against the 512-bit ones they stand in for, on the same copies and activations: on an
 * AVX-512 machine both run, so the 8-lane halves are checked here even where the build's 256-bit test execution does
 * not run (with 8 lanes the tests that go through {@link MatMul} cover them). Integer work must agree exactly; float
 * sums within their rounding order.
 */
class Kernels256Test {
    private final SplittableRandom rnd = new SplittableRandom(11);

    private float[] random(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        x[7] = 25;                                    // an outlier: its block's int8 step grows
        java.util.Arrays.fill(x, 64, Math.min(n, 96), 0f);   // a block of zeros: scale 0, every int 0
        return x;
    }

    /** Random weights (std 0.02), {@code rows × n}. */
    private float[] weights(int rows, int n) {
        float[] w = new float[rows * n];
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.02 * rnd.nextGaussian());
        return w;
    }

    /** {@code w} quantized to {@code type}, in GGUF's block layout. */
    private static byte[] quantized(DType type, float[] w) {
        ByteBuffer q = ByteBuffer.allocate((int) type.bytesFor(w.length)).order(ByteOrder.LITTLE_ENDIAN);
        QuantCodec.quantize(type, w, 0, w.length, q);
        return q.array();
    }

    private Repacked copy(DType type, int rows, int n, WorkerPool pool) {
        byte[] q = quantized(type, weights(rows, n));
        WeightMatrix m = WeightMatrix.of(Tensor.contiguous("w", type, new long[]{rows, n}, MemorySegment.ofArray(q), "test"));
        Repacked rp = m.repacked(pool);
        assertNotNull(rp, type + " copy");
        return rp;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.max(1, Math.abs(want[i])), what + " [" + i + "]");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_0", "Q8_0", "Q6_K"})
    void decodeKernelsGiveTheProductsOfTheWideOnes(DType type) {
        assumeTrue(PackedIntDot.WIDE, "compares with the 16-lane kernels");
        int rows = 7, n = 1536;   // three groups of 16 blocks (six Q6_K super-blocks); an odd last row
        try (WorkerPool pool = new WorkerPool(1)) {
            Repacked rp = copy(type, rows, n, pool);
            float[] x = random(n);
            Int8Activations a = Int8Activations.forThisThread().prepare(type, true, x, n);
            float[] wide = new float[rows], narrow = new float[rows];
            int groups = rp.slabGroups(0);
            switch (type) {
                case Q4_0 -> {
                    PackedIntDot.dotQ4Pairs(rp.data, rp.row(0, 0), rows / 2, a, 0, groups, wide, 0);
                    PackedIntDot256.dotQ4Pairs(rp.data, rp.row(0, 0), rows / 2, a, 0, groups, narrow, 0);
                    long row = rp.row(rows - 1, 0);
                    wide[rows - 1] = PackedIntDot.dotQ4Repacked(rp.data, row, row + Repacked.q4Words(rows - 1, 0), a, 0, groups);
                    narrow[rows - 1] = PackedIntDot256.dotQ4Repacked(rp.data, row, row + Repacked.q4Words(rows - 1, 0), a, 0, groups);
                }
                case Q8_0 -> {
                    PackedIntDot.dotQ8Rows(rp.data, rp.row(0, 0), rows, a, 0, groups, wide, 0);
                    PackedIntDot256.dotQ8Rows(rp.data, rp.row(0, 0), rows, a, 0, groups, narrow, 0);
                }
                default -> {
                    // the copy is in the Q6Words layout (Q6Groups' kernels are checked in q6WordsHold…)
                    PackedIntDot.dotQ6Words(rp.data, rp.row(0, 0), rows, a, 0, n, wide, 0);
                    PackedIntDot256.dotQ6Words(rp.data, rp.row(0, 0), rows, a, 0, n, narrow, 0);
                }
            }
            assertClose(wide, narrow, type + " rows");
        }
    }

    /**
     * The {@link Q6Words} copy holds every six-bit value of the GGUF rows where {@link Q6Words#value} says, widens to
     * the same floats as the {@link Q6Groups} copy, and its kernels give the products of the {@link Q6Groups} ones
     * (with 16 lanes the very same floats). Runs on any machine for the layout, with 16 lanes for the kernels.
     */
    @Test
    void q6WordsHoldTheValuesAndGiveTheProductsOfQ6Groups() {
        int rows = 5, n = 1536, blocks = n / 256;
        float[] w = weights(rows, n);
        for (int i = 0; i < 256; i++) w[n + i] = i % 2 == 0 ? 1f : -1f;   // row 1's first super-block: values 0 and 63 only
        byte[] gguf = quantized(DType.Q6_K, w);
        long rowBytes = (long) Q6Groups.SUPER_BLOCK_BYTES * blocks;
        MemorySegment src = MemorySegment.ofArray(gguf);
        MemorySegment words = MemorySegment.ofArray(new byte[gguf.length]), groups = MemorySegment.ofArray(new byte[gguf.length]);
        for (int r = 0; r < rows; r++) {
            Q6Words.repackRow(src, r * rowBytes, words, r * rowBytes, blocks);
            Q6Groups.repackRow(src, r * rowBytes, groups, r * rowBytes, blocks);
        }
        byte[] copied = words.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        boolean extremes = false;
        for (int sb = 0; sb < rows * blocks; sb++) {
            int base = Q6Groups.SUPER_BLOCK_BYTES * sb;
            for (int c = 0; c < 256; c++) {
                int want = Q6Groups.ggufValue(gguf, base, c);
                assertEquals(want, Q6Words.value(copied, base, c), "super-block " + sb + ", column " + c);
                extremes |= sb == blocks && (want == 0 || want == 63);
            }
        }
        assertTrue(extremes, "row 1 must reach the six-bit extremes");
        for (int r = 0; r < rows; r++) {
            float[] fromWords = new float[n], fromGroups = new float[n];
            Q6Groups.toFloats(words, r * rowBytes, blocks, fromWords, 0, Q6Words::value);
            Q6Groups.toFloats(groups, r * rowBytes, blocks, fromGroups, 0, Q6Groups::value);
            assertArrayEquals(fromGroups, fromWords, "row " + r + " widened");
        }
        assumeTrue(PackedIntDot.WIDE, "compares with the 16-lane kernel");
        float[] x = random(n);
        Int8Activations a = Int8Activations.forThisThread().prepare(DType.Q6_K, true, x, n);
        float[] fromGroups = new float[rows], fromGroups256 = new float[rows], fromWords = new float[rows], fromWords256 = new float[rows];
        PackedIntDot.dotQ6Groups(groups, 0, rows, a, 0, n, fromGroups, 0);
        PackedIntDot256.dotQ6Groups(groups, 0, rows, a, 0, n, fromGroups256, 0);
        PackedIntDot.dotQ6Words(words, 0, rows, a, 0, n, fromWords, 0);
        PackedIntDot256.dotQ6Words(words, 0, rows, a, 0, n, fromWords256, 0);
        assertArrayEquals(fromGroups, fromWords, "Q6_K rows, 16 lanes: the same ints and float operations");
        assertClose(fromGroups, fromGroups256, "Q6_K groups rows, 8 lanes");
        assertClose(fromGroups, fromWords256, "Q6_K words rows, 8 lanes");
    }

    @Test
    void widenedGroupsAndPairGroupsAreTheSame() {
        assumeTrue(PackedIntDot.WIDE, "compares with the 16-lane kernels");
        try (WorkerPool pool = new WorkerPool(1)) {
            for (DType type : new DType[]{DType.Q4_0, DType.Q8_0}) {
                Repacked rp = copy(type, 3, 1024, pool);
                for (int r = 0; r < 3; r++) {
                    long row = rp.row(r, 0);
                    float[] wide = new float[Repacked.GROUP], narrow = new float[Repacked.GROUP];
                    if (type == DType.Q8_0) {
                        PackedIntDot.widenQ8Group(rp.data, row + Repacked.q8Scales(1), wide, 0);
                        PackedIntDot256.widenQ8Group(rp.data, row + Repacked.q8Scales(1), narrow, 0);
                    } else {
                        PackedIntDot.widenQ4Group(rp.data, row + Repacked.q4Scales(1), row + Repacked.q4Words(r, 1), wide, 0);
                        PackedIntDot256.widenQ4Group(rp.data, row + Repacked.q4Scales(1), row + Repacked.q4Words(r, 1), narrow, 0);
                        int[] pw = new int[4 * 256], pn = new int[4 * 256];
                        float[] sw = new float[16], sn = new float[16];
                        PackedIntDot.pairsQ4Group(rp.data, row + Repacked.q4Scales(1), row + Repacked.q4Words(r, 1), pw, 0, 64, sw, 0);
                        PackedIntDot256.pairsQ4Group(rp.data, row + Repacked.q4Scales(1), row + Repacked.q4Words(r, 1), pn, 0, 64, sn, 0);
                        assertArrayEquals(pw, pn, "Q4_0 pairs, row " + r);
                        assertArrayEquals(sw, sn, "Q4_0 pair scales, row " + r);
                    }
                    assertArrayEquals(wide, narrow, type + " widened, row " + r);
                }
            }
        }
    }

    @Test
    void prefillRoundingGivesThePairsAndScalesOfTheWideOne() {
        assumeTrue(PackedIntDot.WIDE, "compares with the 16-lane rounding");
        int cols = 512, half = cols / 2, blocks = cols / 32;
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int tokens : new int[]{5, 16, 37}) {
                float[] x = random(tokens * cols);
                int[] xw = new int[PairTiles.padded(tokens) * half], xn = new int[PairTiles256.padded(tokens) * half];
                float[] sw = new float[PairTiles.padded(tokens) * blocks], sn = new float[PairTiles256.padded(tokens) * blocks];
                PairTiles.quantize(x, tokens, cols, xw, sw, pool);
                PairTiles256.quantize(x, tokens, cols, xn, sn, pool);
                int pw = PairTiles.padded(tokens), pn = PairTiles256.padded(tokens);
                for (int t = 0; t < tokens; t++) {
                    int w0 = t / PairTiles.SPAN * PairTiles.SPAN, ww = Math.min(PairTiles.SPAN, pw - w0);
                    int n0 = t / PairTiles256.SPAN * PairTiles256.SPAN, nw = Math.min(PairTiles256.SPAN, pn - n0);
                    for (int b = 0; b < blocks; b++) {
                        assertEquals(sw[w0 * blocks + b * ww + t - w0], sn[n0 * blocks + b * nw + t - n0], "scale, token " + t + " block " + b);
                        for (int s = 0; s < 16; s++) {
                            assertEquals(xw[w0 * half + (16 * b + s) * ww + t - w0], xn[n0 * half + (16 * b + s) * nw + t - n0],
                                    "pair, token " + t + " block " + b + " step " + s);
                        }
                    }
                }
            }
        }
    }
}
