package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.engine.model.KvCache;
import dev.nemotron4j.loader.config.RopeScaling;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every SIMD kernel against a naive scalar double oracle, on random sizes including ones no vector length divides. */
class KernelsTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final SplittableRandom rnd = new SplittableRandom(42);
    private final Arena arena = Arena.ofAuto();

    /** A dense [rows, cols] matrix of {@code dtype} (at an odd byte offset, to exercise unaligned loads) and its values. */
    private record Mat(MemorySegment seg, float[] values) {
    }

    private Mat matrix(DType dtype, int rows, int cols) {
        int n = rows * cols;
        MemorySegment raw = arena.allocate((long) n * dtype.byteSize() + 3);
        MemorySegment seg = raw.asSlice(dtype == DType.F32 ? 1 : 3, (long) n * dtype.byteSize());
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float f = (float) rnd.nextGaussian();
            switch (dtype) {
                case F32 -> seg.set(F32, 4L * i, f);
                case BF16 -> seg.set(I16, 2L * i, (short) (Float.floatToRawIntBits(f) >>> 16));
                case F16 -> seg.set(I16, 2L * i, Float.floatToFloat16(f));
                default -> throw new IllegalArgumentException();
            }
            v[i] = Tensor.readFloat(dtype, seg, i);
        }
        return new Mat(seg, v);
    }

    private float[] randomVector(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    private static void close(double want, double got, double scale, String what) {
        assertEquals(want, got, 1e-5 * Math.max(1, scale), what);
    }

    @Test
    void theLargestScoreIsMathMaxOverThem() {
        SplittableRandom r = new SplittableRandom(8);
        float[] s = new float[300];
        for (int i = 0; i < s.length; i++) s[i] = (float) (r.nextGaussian() * 10);
        for (int from : new int[]{0, 3, 17}) {
            for (int n = 1; n <= 200; n++) {
                float want = Float.NEGATIVE_INFINITY;
                for (int i = from; i < from + n; i++) want = Math.max(want, s[i]);
                assertEquals(want, Attention.maxOf(s, from, n), "from " + from + " n " + n);
            }
        }
        s[150] = Float.NaN;
        assertEquals(Float.NaN, Attention.maxOf(s, 0, 200));
        assertEquals(Float.NaN, Attention.maxOf(s, 150, 1));
        java.util.Arrays.fill(s, -0f);
        s[40] = 0f;
        assertEquals(0f, Attention.maxOf(s, 0, 100));
    }

    @Test
    void theVectorWidthIsTheOneThisRunAskedFor() {
        // the second surefire run (engine/pom.xml) caps vectors at 256 bits to test the AVX2 code paths
        String max = System.getProperty("n4j.test.maxLanes");
        if (max != null) assertTrue(VectorDot.LANES <= Integer.parseInt(max), VectorDot.LANES + " float lanes");
        assertTrue(VectorDot.LANES >= 4 && Attention.KEY_BLOCK % VectorDot.LANES == 0, VectorDot.LANES + " float lanes");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void dotProductsOfEveryLengthMatchScalar(DType dtype) {
        for (int n = 0; n <= 70; n++) {
            Mat m = matrix(dtype, 1, n);
            float[] x = randomVector(n + 5);
            double want = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                want += (double) m.values[i] * x[i + 5];
                mag += Math.abs(m.values[i] * x[i + 5]);
            }
            close(want, VectorDot.dot(dtype, m.seg, 0, x, 5, n), mag, dtype + " n=" + n);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void matmulOverSlicedAndStackedBlocksMatchesNaive(DType dtype) {
        int rows = 13, cols = 29;
        Mat a = matrix(dtype, rows, cols), b = matrix(dtype, 7, cols);
        WeightMatrix wa = WeightMatrix.of(Tensor.contiguous("a", dtype, new long[]{rows, cols}, a.seg, "test"));
        WeightMatrix wb = WeightMatrix.of(Tensor.contiguous("b", dtype, new long[]{7, cols}, b.seg, "test"));
        // rows 3..12 of a, then all of b, then only columns 4..25
        WeightMatrix w = WeightMatrix.stackRows("ab", wa.sliceRows(3, 10), wb).sliceCols(4, 22);
        int T = 6;
        float[] x = randomVector(T * 22);
        float[] out = new float[T * w.rows()];
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int run = 0; run < 2; run++) { // the second run must overwrite, not accumulate
                MatMul.apply(w, x, T, out, pool);
                for (int t = 0; t < T; t++) {
                    for (int r = 0; r < w.rows(); r++) {
                        float[] src = r < 10 ? a.values : b.values;
                        int srcRow = r < 10 ? r + 3 : r - 10;
                        double want = 0;
                        for (int c = 0; c < 22; c++) want += (double) src[srcRow * cols + c + 4] * x[t * 22 + c];
                        close(want, out[t * w.rows() + r], 10, dtype + " t=" + t + " r=" + r);
                    }
                }
            }
        }
        float[] row = new float[22];
        w.readRow(11, row, 0);
        for (int c = 0; c < 22; c++) assertEquals(b.values[cols + c + 4], row[c]);
    }

    /**
     * Row {@code r} of {@code a} stacked on {@code b} ({@code aRows} rows of {@code a} first), columns {@code c0 ‥ c0+n},
     * times {@code x[xOff ‥ xOff+n)} in float64: the product and Σ|w·x|.
     */
    private static double[] stackedRowTimes(Mat a, Mat b, int aRows, int cols, int r, int c0, float[] x, int xOff, int n) {
        float[] src = r < aRows ? a.values : b.values;
        int row = r < aRows ? r : r - aRows;
        double want = 0, mag = 0;
        for (int c = 0; c < n; c++) {
            double p = (double) src[row * cols + c + c0] * x[xOff + c];
            want += p;
            mag += Math.abs(p);
        }
        return new double[]{want, mag};
    }

    /**
     * A BF16 matrix served from its {@link Repacked} copy (rows in quads, interleaved by chunks), at 1024 columns (one
     * slab, the small model's rows), 3072 and 3 chunks more: decode (1–3 tokens, {@link VectorDot#bf16Quads} and {@link VectorDot#bf16QuadRow}, slab by slab) and prefill
     * (5 and 37 tokens, rows widened from the quads) against float64. Two stacked matrices of 150 and 57 rows: one
     * quad holds rows of both, the last quad has a padding row, and with three threads pool parts (of 4–5 rows) start
     * and end inside quads. Rows shorter than 2 KB keep the file's layout.
     */
    @Test
    void bf16MatricesRepackedInQuadsMatchNaive() {
        for (int cols : new int[]{1024, 3072, 3072 + 3 * Repacked.BF16_CHUNK}) {
            Mat a = matrix(DType.BF16, 150, cols), b = matrix(DType.BF16, 57, cols);
            WeightMatrix w = WeightMatrix.stackRows("ab",
                    WeightMatrix.of(Tensor.contiguous("a", DType.BF16, new long[]{150, cols}, a.seg, "test")),
                    WeightMatrix.of(Tensor.contiguous("b", DType.BF16, new long[]{57, cols}, b.seg, "test")));
            for (int threads : new int[]{1, 3}) {
                try (WorkerPool pool = new WorkerPool(threads)) {
                    Repacked rp = w.repacked(pool);
                    assertTrue(rp != null && rp.dtype == DType.BF16, "a BF16 matrix of " + cols + " columns is repacked");
                    Mat shortRows = matrix(DType.BF16, 8, 960);
                    assertNull(WeightMatrix.of(Tensor.contiguous("s", DType.BF16, new long[]{8, 960}, shortRows.seg, "test")).repacked(pool));
                    for (int tokens : new int[]{1, 2, 3, 5, 37}) {
                        float[] x = randomVector(tokens * cols);
                        float[] out = new float[tokens * w.rows()];
                        java.util.Arrays.fill(out, Float.NaN);
                        MatMul.apply(w, x, tokens, out, pool);
                        for (int t = 0; t < tokens; t++) {
                            for (int r = 0; r < w.rows(); r++) {
                                double[] want = stackedRowTimes(a, b, 150, cols, r, 0, x, t * cols, cols);
                                close(want[0], out[t * w.rows() + r], want[1],
                                        "cols=" + cols + " threads=" + threads + " tokens=" + tokens + " t=" + t + " r=" + r);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Where the copy would not leave the memory reserve free ({@link RepackBudget}; the reading forced to 0 bytes
     * available), an eligible BF16 matrix is not repacked and still multiplies correctly from the mapped layout;
     * with memory to spare it is repacked.
     */
    @Test
    void aMatrixWhoseCopyWouldNotFitKeepsTheMappedKernels() {
        int cols = 3072;
        Mat a = matrix(DType.BF16, 40, cols), b = matrix(DType.BF16, 1, cols);
        try (WorkerPool pool = new WorkerPool(2)) {
            System.setProperty("n4j.repackAvailable", "0");
            WeightMatrix w;
            try {
                w = WeightMatrix.of(Tensor.contiguous("a", DType.BF16, new long[]{40, cols}, a.seg, "test"));
                assertFalse(w.prepare(pool), "no copy without memory for it");
            } finally {
                System.clearProperty("n4j.repackAvailable");
            }
            for (int tokens : new int[]{1, 5}) {
                float[] x = randomVector(tokens * cols), out = new float[tokens * 40];
                MatMul.apply(w, x, tokens, out, pool);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < 40; r++) {
                        double[] want = stackedRowTimes(a, b, 40, cols, r, 0, x, t * cols, cols);
                        close(want[0], out[t * 40 + r], want[1], "tokens=" + tokens + " t=" + t + " r=" + r);
                    }
                }
            }
            System.setProperty("n4j.repackAvailable", Long.toString(Long.MAX_VALUE / 2));
            try {
                assertTrue(WeightMatrix.of(Tensor.contiguous("a", DType.BF16, new long[]{40, cols}, a.seg, "test")).prepare(pool),
                        "a copy with memory to spare");
            } finally {
                System.clearProperty("n4j.repackAvailable");
            }
        }
    }

    @Test
    void theRefusalWarningNamesTheMatrixItsSizeAndTheMemoryLeft() {
        String w = WeightMatrix.refusal("blk.3.ffn_up.weight", 48L << 20, 1234L << 20);
        assertTrue(w.contains("blk.3.ffn_up.weight, 48 MB, with 1234 MB available") && w.contains("kernels' weight copies"), w);
    }

    /** The memory reading behind {@link RepackBudget}: the host's figure, a container's tighter one, the fallbacks. */
    @Test
    void theRepackBudgetTakesTheTighterOfHostAndContainerMemory() {
        long g = 1L << 30;
        assertEquals(20 * g, RepackBudget.available(20 * g, 24 * g, 24 * g, 3 * g), "no container: MemAvailable");
        assertEquals(3 * g, RepackBudget.available(20 * g, 24 * g, 8 * g, 3 * g), "a limit below the host: limit − usage");
        assertEquals(20 * g, RepackBudget.available(20 * g, 24 * g, 8 * g, 30 * g), "…unless the host has less");
        assertEquals(3 * g, RepackBudget.available(-1, -1, 24 * g, 3 * g), "no /proc/meminfo: the JVM's free memory");
        assertEquals(g, RepackBudget.reserve(8 * g));
        assertEquals(64 * g / 20, RepackBudget.reserve(64 * g));
    }

    /**
     * Decode (1–3 tokens) over BF16 rows long enough for {@link VectorDot#bf16Rows4}: 3093 columns (after the four-row
     * loop a tail of 21, with 16 lanes one vector and 5 scalars) from column 3 of 3100, two stacked matrices of 150 and 57 rows, so pool
     * parts of 13 rows hold four-row groups, leftover rows and the boundary between the matrices.
     */
    @Test
    void decodeWithLongBf16RowsFourAtATimeMatchesNaive() {
        int cols = 3100, n = 3093;
        Mat a = matrix(DType.BF16, 150, cols), b = matrix(DType.BF16, 57, cols);
        WeightMatrix w = WeightMatrix.stackRows("ab",
                WeightMatrix.of(Tensor.contiguous("a", DType.BF16, new long[]{150, cols}, a.seg, "test")),
                WeightMatrix.of(Tensor.contiguous("b", DType.BF16, new long[]{57, cols}, b.seg, "test"))).sliceCols(3, n);
        assertTrue(2L * n >= MatMul.ROWS4_MIN_BYTES && n % (2 * VectorDot.LANES) != 0, "the shape must reach the four-row kernel and its tails");
        decodeMatchesStackedRows(w, a, b, 150, cols, 3, n);
    }

    /**
     * Decode (1–3 tokens, one and two threads) with {@code w}, columns {@code c0 ‥ c0+n} of {@code a} (its first
     * {@code aRows} rows) stacked on {@code b}, against float64; the output starts dirty, as it does in a model.
     */
    private void decodeMatchesStackedRows(WeightMatrix w, Mat a, Mat b, int aRows, int cols, int c0, int n) {
        for (int tokens = 1; tokens < MatMul.WIDEN_MIN_TOKENS; tokens++) {
            float[] x = randomVector(tokens * n);
            for (int threads : new int[]{1, 2}) {
                float[] out = new float[tokens * w.rows()];
                java.util.Arrays.fill(out, Float.NaN);
                try (WorkerPool pool = new WorkerPool(threads)) {
                    MatMul.apply(w, x, tokens, out, pool);
                }
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < w.rows(); r++) {
                        double[] want = stackedRowTimes(a, b, aRows, cols, r, c0, x, t * n, n);
                        close(want[0], out[t * w.rows() + r], want[1], "columns " + c0 + "+" + n + " tokens=" + tokens
                                + " threads=" + threads + " t=" + t + " r=" + r);
                    }
                }
            }
        }
    }

    /**
     * One-token BF16 decode over several column slabs splits the copy in memory order and stores each slab's sums apart
     * ({@code MatMul.quadsInMemoryOrder}), then adds the slabs up: matrices of 9 + 2 rows (a last quad with one
     * padding row, which the copy holds as zeros), 10 + 2 (whole quads) and 1400 + 100 (the adding pass split over
     * the pool), on two and three threads, alternating on the same calling thread so each call reuses the scratch the
     * last one left; against float64.
     */
    @Test
    void bf16DecodeInMemoryOrderMatchesNaive() {
        int cols = 3 * 1024;
        int[][] shapes = {{9, 2}, {10, 2}, {1400, 100}};
        Mat[][] mats = new Mat[shapes.length][];
        WeightMatrix[] ws = new WeightMatrix[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            mats[i] = new Mat[]{matrix(DType.BF16, shapes[i][0], cols), matrix(DType.BF16, shapes[i][1], cols)};
            ws[i] = WeightMatrix.stackRows("w" + i,
                    WeightMatrix.of(Tensor.contiguous("a" + i, DType.BF16, new long[]{shapes[i][0], cols}, mats[i][0].seg, "test")),
                    WeightMatrix.of(Tensor.contiguous("b" + i, DType.BF16, new long[]{shapes[i][1], cols}, mats[i][1].seg, "test")));
        }
        for (int threads : new int[]{2, 3}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                Repacked rp0 = ws[0].repacked(pool);
                assertTrue(rp0 != null && rp0.slabs > 1, "several column slabs");
                for (int s = 0; s < rp0.slabs; s++) {
                    for (int k = 0; k < rp0.slabGroups(s); k++) {
                        MemorySegment chunk = rp0.data.asSlice(rp0.row(11, s) + 4L * k * 2 * Repacked.BF16_CHUNK, 2L * Repacked.BF16_CHUNK);
                        assertEquals(-1L, chunk.mismatch(MemorySegment.ofArray(new byte[(int) chunk.byteSize()])), "padding row, slab " + s + " chunk " + k);
                    }
                }
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < shapes.length; i++) {
                        WeightMatrix w = ws[i];
                        float[] x = randomVector(cols), out = new float[w.rows()];
                        java.util.Arrays.fill(out, Float.NaN);
                        MatMul.apply(w, x, 1, out, pool);
                        for (int r = 0; r < w.rows(); r++) {
                            double[] want = stackedRowTimes(mats[i][0], mats[i][1], shapes[i][0], cols, r, 0, x, 0, cols);
                            close(want[0], out[r], want[1], "threads " + threads + " round " + round + " matrix " + i + " r=" + r);
                        }
                    }
                }
            }
        }
    }

    /**
     * Decode over short BF16 rows, which one token multiplies all of a pool part's rows of in one loop ({@link
     * VectorDot#bf16Rows}): two stacked matrices of 150 and 57 rows of 960 columns, whole and as column slices (a gap
     * between one row's end and the next row's start), one and two threads; two and three tokens take each row in
     * turn.
     */
    @Test
    void decodeWithShortBf16RowsInOneLoopMatchesNaive() {
        int cols = 960;   // under Repacked.BF16_QUAD_MIN_BYTES: the whole matrix keeps the file's layout too
        Mat a = matrix(DType.BF16, 150, cols), b = matrix(DType.BF16, 57, cols);
        WeightMatrix whole = WeightMatrix.stackRows("ab",
                WeightMatrix.of(Tensor.contiguous("a", DType.BF16, new long[]{150, cols}, a.seg, "test")),
                WeightMatrix.of(Tensor.contiguous("b", DType.BF16, new long[]{57, cols}, b.seg, "test")));
        for (int[] slice : new int[][]{{0, cols}, {4 * VectorDot.LANES, 8 * VectorDot.LANES}, {0, 12 * VectorDot.LANES}}) {
            int c0 = slice[0], n = slice[1];
            WeightMatrix w = n == cols ? whole : whole.sliceCols(c0, n);
            assertTrue(2L * n < MatMul.ROWS4_MIN_BYTES && n % (4 * VectorDot.LANES) == 0, "rows for the one-loop kernel");
            decodeMatchesStackedRows(w, a, b, 150, cols, c0, n);
        }
    }

    /**
     * Prefill wide enough for {@link BroadcastTiles}: SPAN + LANES + 7 tokens (87 with 16 float lanes) are a full slab
     * (4×4 tiles), a one-vector slab (8×1 tiles, then 4×1) and 7 tokens left to the row-major tiles (one 4×4, three
     * single dots); 592 columns are two chunks of {@link BroadcastTiles#KC}, starting at column 4 of the matrix; one
     * thread sees 64-row panels (the one-vector slab in eight 8×1 tiles) and a last one of 15 rows (an 8×1 tile or two
     * 4×4 ones, then a 4-row tile and three single rows), two threads see parts of 6 or 7 rows.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void prefillInTokenVectorTilesMatchesNaive(DType dtype) {
        int rest = Math.min(7, VectorDot.LANES - 1); // 3 with 128-bit vectors: no row-major 4×4 tile then
        int cols = BroadcastTiles.KC + 88, n = cols - 8, T = BroadcastTiles.SPAN + VectorDot.LANES + rest;
        Mat a = matrix(dtype, 150, cols), b = matrix(dtype, 57, cols);
        WeightMatrix wa = WeightMatrix.of(Tensor.contiguous("a", dtype, new long[]{150, cols}, a.seg, "test"));
        WeightMatrix wb = WeightMatrix.of(Tensor.contiguous("b", dtype, new long[]{57, cols}, b.seg, "test"));
        WeightMatrix w = WeightMatrix.stackRows("ab", wa, wb).sliceCols(4, n);
        assertTrue(BroadcastTiles.width(T) == T - rest && n > BroadcastTiles.KC, "the shape must reach every tile");
        float[] x = randomVector(T * n);
        for (int threads : new int[]{1, 2}) {
            float[] out = new float[T * w.rows()];
            try (WorkerPool pool = new WorkerPool(threads)) {
                MatMul.apply(w, x, T, out, pool);
            }
            for (int t = 0; t < T; t++) {
                for (int r = 0; r < w.rows(); r++) {
                    double[] want = stackedRowTimes(a, b, 150, cols, r, 4, x, t * n, n);
                    close(want[0], out[t * w.rows() + r], want[1], dtype + " threads=" + threads + " t=" + t + " r=" + r);
                }
            }
        }
    }

    /**
     * {@link BroadcastTiles#transpose} moves every value, exactly, to its slab, column position and token lane: 80
     * tokens are a full slab and a one-vector one; 1031 columns end in a partial block of 16 (element by element),
     * and 1024 columns go through the Q8_0 and Q4_0 copies' column positions; one thread and three (parts of blocks).
     */
    @Test
    void transposeMovesEveryValueToItsSlabPosition() {
        int width = BroadcastTiles.SPAN + VectorDot.LANES;
        Object[][] cases = {{1031, null}, {1024, Repacked.positions(DType.Q8_0)}, {1024, Repacked.positions(DType.Q4_0)}};
        for (Object[] c : cases) {
            int cols = (Integer) c[0];
            int[] positions = (int[]) c[1];
            float[] x = randomVector(width * cols);
            for (int threads : new int[]{1, 3}) {
                float[] xt = new float[width * cols];
                try (WorkerPool pool = new WorkerPool(threads)) {
                    BroadcastTiles.transpose(x, cols, width, positions, xt, pool);
                }
                for (int t = 0; t < width; t++) {
                    int slab = t / BroadcastTiles.SPAN, t0 = slab * BroadcastTiles.SPAN;
                    int sw = Math.min(BroadcastTiles.SPAN, width - t0);
                    for (int k = 0; k < cols; k++) {
                        int position = positions == null ? k : k - k % positions.length + positions[k % positions.length];
                        assertEquals(x[t * cols + k], xt[t0 * cols + position * sw + t - t0],
                                "cols=" + cols + " threads=" + threads + " t=" + t + " k=" + k);
                    }
                }
            }
        }
    }

    @RepeatedTest(5)
    void layerNormAndRmsNormMatchNaive() {
        int n = 1 + rnd.nextInt(90);
        float[] x = randomVector(n), g = randomVector(n), b = randomVector(n);
        for (int i = 0; i < n; i++) x[i] = x[i] * 3 + 5; // a non-zero mean
        float[] out = new float[n + 2];
        Norms.layerNorm(x, 0, out, 2, n, g, b, 1e-5f);
        double mean = 0, var = 0;
        for (float v : x) mean += v;
        mean /= n;
        for (float v : x) var += (v - mean) * (v - mean);
        var /= n;
        for (int i = 0; i < n; i++) close((x[i] - mean) / Math.sqrt(var + 1e-5) * g[i] + b[i], out[2 + i], 10, "ln " + i);
        Norms.rmsNorm(x, 0, out, 1, n, g, 1e-5f);
        double ss = 0;
        for (float v : x) ss += (double) v * v;
        for (int i = 0; i < n; i++) close(x[i] / Math.sqrt(ss / n + 1e-5) * g[i], out[1 + i], 10, "rms " + i);
    }

    @Test
    void activationsMatchTheirDefinitions() {
        int n = 37;
        float[] x = randomVector(n), gate = randomVector(n), up = randomVector(n);
        float[] sq = x.clone();
        Activations.squaredRelu(sq, 0, n);
        float[] sw = up.clone();
        Activations.swiglu(gate, 0, sw, 0, n);
        for (int i = 0; i < n; i++) {
            double r = Math.max(0, x[i]);
            close(r * r, sq[i], 1, "relu2 " + i);
            close(gate[i] / (1 + Math.exp(-gate[i])) * up[i], sw[i], 1, "swiglu " + i);
        }
    }

    /** Head dims and rotary dims: pairs fewer than a vector, whole vectors, and whole vectors plus a scalar tail. */
    @ParameterizedTest
    @CsvSource({"12, 6", "128, 64", "96, 40"})
    void rotaryRotatesTheFirstHalfPairsAndLeavesTheRestAlone(int hd, int rot) {
        int heads = 2, pos = 37;
        RotaryEmbedding rope = new RotaryEmbedding(rot, 10000, RopeScaling.linear(2));
        float[] v = randomVector(heads * hd);
        float[] orig = v.clone();
        float[] cos = new float[rot / 2], sin = new float[rot / 2];
        rope.angles(pos, cos, sin, 0);
        rope.apply(v, 0, heads, hd, cos, sin, 0);
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < rot / 2; j++) {
                double a = pos * Math.pow(10000, -2.0 * j / rot) / 2;
                int i0 = h * hd + j, i1 = i0 + rot / 2;
                close(orig[i0] * Math.cos(a) - orig[i1] * Math.sin(a), v[i0], 1, "rot a");
                close(orig[i1] * Math.cos(a) + orig[i0] * Math.sin(a), v[i1], 1, "rot b");
            }
            for (int j = rot; j < hd; j++) assertEquals(orig[h * hd + j], v[h * hd + j], "pass-through dim " + j);
        }
    }

    /** A whole key block stored at once leaves the cache exactly as storing its positions one by one does. */
    @ParameterizedTest
    @ValueSource(ints = {16, 128})
    void aKeyBlockStoredWholeEqualsItsPositionsStoredOneByOne(int hd) {
        int kvHeads = 2, stride = 3 * kvHeads * hd + 5, kOff = 7, vOff = kOff + kvHeads * hd, position0 = 32;
        try (KvCache whole = new KvCache(2, kvHeads, hd, 64); KvCache single = new KvCache(2, kvHeads, hd, 64)) {
            assumeTrue(whole.blockStores(), "block stores need 16 float lanes");
            float[] src = randomVector(Attention.KEY_BLOCK * stride + vOff + kvHeads * hd);
            whole.storeBlock(1, position0, src, kOff, vOff, stride);
            for (int k = 0; k < Attention.KEY_BLOCK; k++) {
                single.store(1, position0 + k, src, kOff + k * stride, vOff + k * stride);
            }
            assertEquals(-1, whole.keys(1).mismatch(single.keys(1)), "keys");
            assertEquals(-1, whole.values(1).mismatch(single.values(1)), "values");
            assertThrows(IllegalArgumentException.class, () -> whole.storeBlock(1, 8, src, kOff, vOff, stride), "a block not on a boundary");
            assertThrows(IllegalArgumentException.class, () -> whole.storeBlock(1, 64, src, kOff, vOff, stride), "a block past the capacity");
            // and the block really holds the keys (a cache never written is all zeros)
            assertEquals(src[kOff + 3 * stride + hd + 5], whole.keys(1).get(ValueLayout.JAVA_FLOAT_UNALIGNED,
                    whole.headBase(1) + Attention.keyOffset(position0 + 3, 5, hd)));
        }
    }

    /** Float64 softmax(q·kᵀ · scale) · v over the first {@code len} rows of row-major {@code k} and {@code v}. */
    private static double[] attention(float[] q, int qOff, float[] k, float[] v, int len, int hd, float scale) {
        double[] s = new double[len];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int p = 0; p < len; p++) {
            for (int e = 0; e < hd; e++) s[p] += (double) q[qOff + e] * k[p * hd + e];
            s[p] *= scale;
            max = Math.max(max, s[p]);
        }
        for (int p = 0; p < len; p++) sum += s[p] = Math.exp(s[p] - max);
        double[] out = new double[hd];
        for (int e = 0; e < hd; e++) {
            for (int p = 0; p < len; p++) out[e] += s[p] / sum * v[p * hd + e];
        }
        return out;
    }

    /** Row-major keys {@code k} ({@code positions × hd}) written the way the KV cache keeps them, from {@code base}. */
    private MemorySegment cachedKeys(float[] k, int positions, int hd, long base) {
        MemorySegment ks = arena.allocate(base + 4L * Attention.slots(positions) * hd);
        for (int p = 0; p < positions; p++) {
            for (int e = 0; e < hd; e++) ks.set(ValueLayout.JAVA_FLOAT_UNALIGNED, base + Attention.keyOffset(p, e, hd), k[p * hd + e]);
        }
        return ks;
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
            "19, 1, 1, 22",   // one query over 23 positions (a decode step with one head per KV head)
            "19, 3, 5, 37",   // four-query groups and three single queries; key and value blocks end inside the tile
            "32, 2, 1, 100",  // decode with two heads per KV head; no dimension tail
            "16, 1, 7, 0",    // prefill from position 0, one head per KV head
            "40, 4, 2, 20",   // two four-query groups, two vectors of dimensions and a tail, positions ending mid-vector
    })
    void attentionTilesOfHeadsAndTokensMatchOneQueryAtATime(int hd, int heads, int tokens, int start) {
        int span = start + tokens;
        int qStride = heads * hd + 7, outStride = heads * hd + 3;
        float[] q = randomVector(tokens * qStride + 2);
        float[] k = randomVector(span * hd), vv = randomVector(span * hd);
        long base = 32;
        MemorySegment ks = cachedKeys(k, span, hd, base), vs = arena.allocate(4L * (span * hd + 8));
        MemorySegment.copy(vv, 0, vs, ValueLayout.JAVA_FLOAT_UNALIGNED, base, vv.length);
        float scale = 0.4f;
        float[] out = new float[tokens * outStride + 1];
        java.util.Arrays.fill(out, 9f); // every output must be written, not added to
        float[] scratch = new float[Attention.scratchSize(heads * tokens, span)];
        java.util.Arrays.fill(scratch, 5f); // reused scratch holds old scores: only each query's own may count
        Attention.attendShared(q, 2, qStride, heads, tokens, start, ks, vs, base, hd, scale, scratch, out, 1, outStride);
        for (int t = 0; t < tokens; t++) {
            int len = start + t + 1;
            for (int h = 0; h < heads; h++) {
                double[] want = attention(q, 2 + t * qStride + h * hd, k, vv, len, hd, scale);
                for (int e = 0; e < hd; e++) {
                    close(want[e], out[1 + t * outStride + h * hd + e], 1, "token " + t + " head " + h + " dim " + e);
                }
            }
        }
        assertEquals(9f, out[0], "the element before the first output");
    }

    @Test
    void workerPoolServesTwoCallingThreadsAtOnceWithoutMixingTheirWork() throws Exception {
        try (WorkerPool pool = new WorkerPool(3)) {
            java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.List<java.util.concurrent.Future<long[]>> results = new java.util.ArrayList<>();
                for (int c = 0; c < 2; c++) {
                    final int caller = c;
                    results.add(callers.submit(() -> {
                        long[] sums = new long[500];
                        for (int round = 0; round < 500; round++) {
                            int[] hits = new int[997];
                            pool.forRange(hits.length, 1 << 20, (chunk, s, e) -> {
                                for (int i = s; i < e; i++) hits[i] += caller + 1;
                            });
                            for (int h : hits) sums[round] += h;
                        }
                        return sums;
                    }));
                }
                for (int c = 0; c < 2; c++) {
                    for (long sum : results.get(c).get()) assertEquals(997L * (c + 1), sum);
                }
            } finally {
                callers.shutdownNow();
            }
        }
    }

    /**
     * Guided parts start on multiples of 16, so prefill's row tiles stay whole; 1024 items too (the small shape's
     * 1024-row matrices, whose parts had any size until session 33).
     */
    @Test
    void workerPoolPartsStartOnMultiplesOf16AndShrinkTowardsTheEnd() {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int items : new int[]{4096, 4999, 1024}) {
                java.util.List<int[]> parts = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                pool.forRange(items, 1 << 20, (chunk, s, e) -> parts.add(new int[]{s, e}));
                parts.sort(java.util.Comparator.comparingInt(p -> p[0]));
                int next = 0, first = parts.get(0)[1] - parts.get(0)[0], smallest = Integer.MAX_VALUE;
                for (int[] p : parts) {
                    assertEquals(next, p[0], "parts are contiguous and disjoint");
                    assertEquals(0, p[0] % 16, "part start " + p[0]);
                    smallest = Math.min(smallest, p[1] - p[0]);
                    next = p[1];
                }
                assertEquals(items, next, "every item once");
                // guided: the first part takes a quarter of the items (two threads), the last ones a 64th at most
                assertEquals(items / 4 / 16 * 16, first, "first part");
                assertTrue(smallest <= items / 64, "smallest part " + smallest);
            }
        }
    }

    /**
     * {@link WorkerPool#forStreams}: every item once, parts on multiples of 16 where they are large, and each thread's
     * parts from its own stretch in order, one after another in memory (so its reads are one forward stream), before
     * any it takes from another's end. A thread held up at its first part leaves the rest of its stretch to the others.
     * Parts shrink towards the end of a stretch.
     */
    @Test
    void workerPoolStreamsGiveEachThreadItsOwnStretchInOrder() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int items : new int[]{4096, 4999, 1000, 700, 7}) {
                for (int round = 0; round < 20; round++) {
                    java.util.List<int[]> parts = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                    boolean slowFirst = round % 2 == 1;
                    pool.forStreams(items, 1 << 20, (chunk, s, e) -> {
                        // odd rounds: the caller's first part is slow, so the workers take from its stretch
                        if (slowFirst && chunk == 0 && s == 0) sleep(20);
                        parts.add(new int[]{chunk, s, e});
                    });
                    java.util.List<int[]> sorted = new java.util.ArrayList<>(parts);
                    sorted.sort(java.util.Comparator.comparingInt(p -> p[1]));
                    int next = 0, fixedParts = Math.min(3 * WorkerPool.PARTS_PER_THREAD, items);
                    int g = WorkerPool.granule(items, fixedParts);
                    for (int[] p : sorted) {
                        assertEquals(next, p[1], "parts are contiguous and disjoint: " + items);
                        if (g == 16) {
                            assertEquals(0, p[1] % 16, "part start " + p[1]);
                        }
                        next = p[2];
                    }
                    assertEquals(items, next, "every item once");
                    // no part longer than a step, stolen ones included: any part left can still be shared
                    int step = Math.max(g, items / fixedParts / g * g);
                    for (int[] p : sorted) assertTrue(p[2] - p[1] <= step, "part [" + p[1] + ", " + p[2] + ") longer than " + step);
                    // parts shrink towards a stretch's end, whoever runs it: the part ending a stretch is an eighth of a
                    // step at most, so a thread done early waits for little
                    int fine = Math.max(g, step / 8 / g * g);
                    for (int t = 0; t < 3; t++) {
                        int end = t == 2 ? items : (int) ((long) items * (t + 1) / 3) / g * g;
                        for (int[] p : sorted) {
                            if (p[2] == end) assertTrue(p[2] - p[1] <= fine, "the part [" + p[1] + ", " + p[2] + ") ending a stretch is longer than " + fine);
                        }
                    }
                    // per thread, in the order it ran them: forward runs, each part where the last ended; the first run
                    // from its own stretch's start (unless the others took all of it first), every later one begun by
                    // taking from another stretch (or back from one taken from it) — few runs, not a part each
                    int runs = 0;
                    for (int t = 0; t < 3; t++) {
                        int home = (int) ((long) items * t / 3) / g * g, end = t == 2 ? items : (int) ((long) items * (t + 1) / 3) / g * g;
                        int at = -1;
                        synchronized (parts) {
                            for (int[] p : parts) {
                                if (p[0] != t) continue;
                                if (at < 0 && p[1] >= home && p[2] <= end && p[1] != home) {
                                    int h = home, me = t;   // its first part came back from a thread that took its start
                                    assertTrue(parts.stream().anyMatch(q -> q[0] != me && q[1] == h), "thread " + t + " began its stretch at " + p[1]);
                                }
                                if (p[1] != at) runs++;
                                at = p[2];
                            }
                        }
                    }
                    if (items >= 4096) assertTrue(runs <= parts.size() / 2, runs + " forward runs over " + parts.size() + " parts");
                    if (slowFirst && items >= 1000) {
                        assertTrue(parts.stream().anyMatch(p -> p[0] != 0 && p[1] < items / 3),
                                "the others took from the slow thread's stretch");
                    }
                }
            }
            IllegalStateException thrown = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> pool.forStreams(100, 1 << 20, (chunk, s, e) -> {
                        if (s <= 70 && 70 < e) throw new IllegalStateException("boom");
                    }));
            assertEquals("boom", thrown.getMessage());
        }
    }

    /**
     * {@link WorkerPool#forStreams} with three threads: whichever thread first works outside its own stretch is held up
     * there for 300 ms; what it took is shared again (in parts no longer than a step), so the others finish all of it
     * but that one part meanwhile. Before, a taken half ran as one piece and the held thread did all of it alone.
     */
    @Test
    void workerPoolStreamsShareATakenStretchAgain() {
        try (WorkerPool pool = new WorkerPool(3)) {
            int items = 4800, g = 16, step = items / 48 / g * g;   // 48 parts of 96
            for (int round = 0; round < 3; round++) {
                java.util.concurrent.atomic.AtomicReference<int[]> held = new java.util.concurrent.atomic.AtomicReference<>();
                int[] foreign = new int[3];
                pool.forStreams(items, 1 << 20, (chunk, s, e) -> {
                    int home = items * chunk / 3 / g * g, end = chunk == 2 ? items : items * (chunk + 1) / 3 / g * g;
                    if (s >= home && e <= end) return;
                    synchronized (foreign) {
                        foreign[chunk] += e - s;
                    }
                    if (held.compareAndSet(null, new int[]{chunk, s, e})) sleep(300);
                });
                int[] h = held.get();
                assertTrue(h != null, "some thread worked outside its own stretch");
                assertTrue(h[2] - h[1] <= step, "the held part [" + h[1] + ", " + h[2] + ") is longer than a step");
                synchronized (foreign) {
                    assertEquals(h[2] - h[1], foreign[h[0]], "while thread " + h[0] + " was held, the others did the rest of what it took");
                }
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void workerPoolCoversEveryItemOnceAndReportsFailures() {
        try (WorkerPool pool = new WorkerPool(3)) {
            int[] hits = new int[1000];
            pool.forRange(hits.length, 1 << 20, (chunk, s, e) -> {
                for (int i = s; i < e; i++) hits[i]++;
            });
            for (int h : hits) assertEquals(1, h);
            // parts are claimed dynamically, but the chunk index still names one thread: never two at once
            java.util.concurrent.atomic.AtomicIntegerArray busy = new java.util.concurrent.atomic.AtomicIntegerArray(3);
            java.util.concurrent.atomic.AtomicBoolean shared = new java.util.concurrent.atomic.AtomicBoolean();
            for (int round = 0; round < 200; round++) {
                pool.forRange(1000, 1 << 20, (chunk, s, e) -> {
                    if (busy.getAndIncrement(chunk) != 0) shared.set(true);
                    for (int i = s; i < e; i++) hits[i]++;
                    busy.decrementAndGet(chunk);
                });
            }
            assertTrue(!shared.get(), "a chunk index was in use by two threads at once");
            for (int h : hits) assertEquals(201, h);
            IllegalStateException thrown = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> pool.forRange(10, 1 << 20, (chunk, s, e) -> {
                        if (s <= 7 && 7 < e) throw new IllegalStateException("boom");
                    }));
            assertEquals("boom", thrown.getMessage());
        }
    }
}
