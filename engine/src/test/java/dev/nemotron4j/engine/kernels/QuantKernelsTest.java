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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SIMD quantized kernels against the scalar reference codec: dequantize-then-F32 within float rounding. */
class QuantKernelsTest {
    private final SplittableRandom rnd = new SplittableRandom(5);

    private float[] random(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q6_K"})
    void dotAndDequantizeMatchTheReferenceCodec(DType type) {
        for (int blocks = 1; blocks <= 9; blocks += 4) {
            int n = blocks * type.blockSize();
            float[] w = random(n);
            ByteBuffer q = ByteBuffer.allocate((int) type.bytesFor(n)).order(ByteOrder.LITTLE_ENDIAN);
            QuantCodec.quantize(type, w, 0, n, q);
            q.flip();
            float[] deq = new float[n];
            QuantCodec.dequantize(type, q, deq, 0, n);
            // the codec itself is a good approximation of what it encoded
            double err = 0, norm = 0;
            for (int i = 0; i < n; i++) {
                err += (deq[i] - w[i]) * (deq[i] - w[i]);
                norm += w[i] * w[i];
            }
            double bound = type == DType.Q8_0 ? 1e-4 : type == DType.Q6_K ? 2e-3 : 2e-2;
            assertTrue(err / norm < bound, type + " relative squared error " + err / norm);

            MemorySegment seg = MemorySegment.ofArray(q.array());
            float[] x = random(n + 3);
            double want = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                want += (double) deq[i] * x[i + 3];
                mag += Math.abs(deq[i] * x[i + 3]);
            }
            assertEquals(want, VectorDot.dot(type, seg, 0, x, 3, n), 1e-5 * Math.max(1, mag), type + " dot, n=" + n);
            float[] rows = new float[n];
            VectorDot.toFloats(type, seg, 0, rows, 0, n);
            org.junit.jupiter.api.Assertions.assertArrayEquals(deq, rows, type + " row dequantization");

            // and through the matmul paths (decode and panelled prefill) on a 2-row matrix
            ByteBuffer two = ByteBuffer.allocate(2 * q.array().length).put(q.array()).put(q.array());
            WeightMatrix m = WeightMatrix.of(Tensor.contiguous("q", type, new long[]{2, n}, MemorySegment.ofArray(two.array()), "test"));
            for (int tokens : new int[]{1, 5}) {
                float[] xs = random(tokens * n), out = new float[tokens * 2];
                boolean copied;
                try (WorkerPool pool = new WorkerPool(2)) {
                    MatMul.apply(m, xs, tokens, out, pool);
                    copied = m.repacked(pool) != null;
                }
                // decode where the integer kernels run (GGUF Q6_K/Q4_0 rows with 16 lanes, a repacked copy with 8 or
                // 16) rounds activations to int8 per group first
                boolean int8 = tokens < MatMul.WIDEN_MIN_TOKENS && (Int8Activations.supports(type, n) || copied);
                int group = type == DType.Q6_K ? 256 : 32;
                for (int t = 0; t < tokens; t++) {
                    Expected e = expected(deq, 0, xs, t * n, n, group);
                    double tol = 1e-5 * Math.max(1, e.magnitude()) + (int8 ? e.int8Bound() : 0);
                    assertEquals(e.exact(), out[t * 2], tol, type + " matmul t=" + t);
                    assertEquals(e.exact(), out[t * 2 + 1], tol, type + " matmul row 2 t=" + t);
                    if (int8) {
                        // and against exact arithmetic on the same int8 activations: only float rounding remains
                        assertEquals(e.onInt8(), out[t * 2], 1e-4 * Math.max(1, e.magnitude()), type + " int8 matmul t=" + t);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
    void repackedDecodeMatchesTheReference(DType type) {
        // 1024 and 1536 columns: two and three groups of 16 blocks. 37 rows: Q4_0 stores rows in pairs, so there are
        // pairs, an odd last row, and (37 rows in 32 pool parts) parts that begin or end inside a pair
        for (int n : new int[]{512, 1024, 1536}) repackedDecodeMatchesTheReference(type, 37, n);
        // rows of more than Repacked.SLAB_GROUPS groups are stored in column slabs: 4608 columns are nine groups,
        // two slabs of four and five; 6144 two slabs of six (150 rows in 32 pool parts of 4–5 rows)
        assertTrue(4608 / Repacked.GROUP > Repacked.SLAB_GROUPS, "more than one slab");
        repackedDecodeMatchesTheReference(type, 37, 4608);
        repackedDecodeMatchesTheReference(type, 150, 6144);
        // one thread: the whole matrix is one part, a full 64-row panel and one of 6, so prefill's sums also take the
        // path that adds them 16 rows × 16 tokens at a time
        repackedDecodeMatchesTheReference(type, 70, 1024, 1);
    }

    private void repackedDecodeMatchesTheReference(DType type, int rows, int n) {
        repackedDecodeMatchesTheReference(type, rows, n, 2);
    }

    private void repackedDecodeMatchesTheReference(DType type, int rows, int n, int threads) {
        ByteBuffer q = quantized(type, rows, n);
        // scales the copy must carry exactly: negative and subnormal (row 0), the largest finite half (row 1)
        int bb = (int) type.bytesFor(32), perRow = n / 32;
        q.putShort(0, Float.floatToFloat16(-Math.abs(Float.float16ToFloat(q.getShort(0)))));
        q.putShort(bb * 3, Float.floatToFloat16(-Math.abs(Float.float16ToFloat(q.getShort(bb * 3)))));
        q.putShort(bb * 5, (short) 0x0123);
        q.putShort(bb * (perRow + 17), (short) 0x7BFF);
        checkDecode(type, q, rows, n, true, threads);
    }

    @org.junit.jupiter.api.Test
    void repackedQ4_0AtTheExtremesDoesNotOverflowItsIntLanes() {
        // every nibble 15 (value +7) in row 0 and 0 (value −8) in row 1, activations all at the int8 maximum: the
        // largest sums the int accumulators of decode (+8 kept in the nibbles) and prefill (signed pairs) can see
        int rows = 2, n = 1024, blocks = n / 32;
        ByteBuffer q = ByteBuffer.allocate(rows * blocks * 18).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocks; b++) {
                q.putShort(Float.floatToFloat16(1f));
                for (int i = 0; i < 16; i++) q.put((byte) (r == 0 ? 0xFF : 0x00));
            }
        }
        WeightMatrix m = WeightMatrix.of(Tensor.contiguous("q", DType.Q4_0, new long[]{rows, n}, MemorySegment.ofArray(q.array()), "test"));
        try (WorkerPool pool = new WorkerPool(2)) {
            assertEquals(PackedIntDot.REPACKED, m.repacked(pool) != null, "repacked");
            for (float sign : new float[]{1, -1}) {
                for (int tokens : new int[]{1, 5}) {
                    float[] x = new float[tokens * n], out = new float[tokens * rows];
                    java.util.Arrays.fill(x, 0.5f * sign);
                    MatMul.apply(m, x, tokens, out, pool);
                    for (int t = 0; t < tokens; t++) {
                        assertEquals(7 * n * 0.5 * sign, out[t * rows], 1e-4 * 7 * n, "row +7, tokens " + tokens);
                        assertEquals(-8 * n * 0.5 * sign, out[t * rows + 1], 1e-4 * 8 * n, "row −8, tokens " + tokens);
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void repackedQ6_KMatchesTheReference() {
        // the Q6Groups copy: one to twelve super-blocks a row, 37 rows in up to 32 pool parts; prefill widens the
        // copy's rows back to floats in column order; one thread: a 64-row panel and one of 6
        for (int n : new int[]{256, 1024, 3072}) checkDecode(DType.Q6_K, quantized(DType.Q6_K, 37, n), 37, n, true, 2);
        checkDecode(DType.Q6_K, quantized(DType.Q6_K, 70, 512), 70, 512, true, 1);
    }

    @org.junit.jupiter.api.Test
    void repackedQ6_KAtTheExtremesDoesNotOverflowItsIntLanes() {
        // every six-bit value 63 (weight +31) in row 0 and 0 (weight −32) in row 1, activations all at the int8
        // maximum: row 0 gives the largest sums of two vectors' products that PackedIntDot.dotQ6Groups adds as ints
        int rows = 2, n = 1024, superBlocks = n / 256;
        float d = 1f / 64;
        ByteBuffer q = ByteBuffer.allocate(rows * superBlocks * 210).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int s = 0; s < superBlocks; s++) {
                for (int i = 0; i < 192; i++) q.put((byte) (r == 0 ? 0xFF : 0x00));   // ql, qh
                for (int j = 0; j < 16; j++) q.put((byte) 127);                       // scales
                q.putShort(Float.floatToFloat16(d));
            }
        }
        WeightMatrix m = WeightMatrix.of(Tensor.contiguous("q", DType.Q6_K, new long[]{rows, n}, MemorySegment.ofArray(q.array()), "test"));
        try (WorkerPool pool = new WorkerPool(2)) {
            assertEquals(PackedIntDot.REPACKED, m.repacked(pool) != null, "repacked");
            for (float sign : new float[]{1, -1}) {
                for (int tokens : new int[]{1, 2, 5}) {
                    float[] x = new float[tokens * n], out = new float[tokens * rows];
                    java.util.Arrays.fill(x, 0.5f * sign);
                    MatMul.apply(m, x, tokens, out, pool);
                    for (int t = 0; t < tokens; t++) {
                        assertEquals(31 * 127 * d * n * 0.5 * sign, out[t * rows], 1e-4 * 31 * 127 * d * n, "row +31, tokens " + tokens);
                        assertEquals(-32 * 127 * d * n * 0.5 * sign, out[t * rows + 1], 1e-4 * 32 * 127 * d * n, "row −32, tokens " + tokens);
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void q6kDecodeRunsManyRowsInOneLoopWholeAndColumnSliced() {
        // decode runs a pool part's Q6_K rows in one loop (PackedIntDot.dotQ6KRows on GGUF rows, dotQ6Groups on the
        // Q6Groups copy): 37 rows in up to 32 parts of one or two rows, and 150 rows in parts of 4–5; a column slice (a
        // tensor-parallel rank's share) leaves a gap between one row's last super-block and the next row's first in
        // GGUF rows, and is repacked from such rows. Without memory for a copy (RepackBudget read as 0 bytes) the
        // GGUF kernel runs, with it the copy's
        int cols = 1024;
        for (int rows : new int[]{37, 150}) {
            ByteBuffer q = quantized(DType.Q6_K, rows, cols);
            float[] deq = new float[rows * cols];
            QuantCodec.dequantize(DType.Q6_K, q.duplicate().order(ByteOrder.LITTLE_ENDIAN), deq, 0, rows * cols);
            for (boolean copy : new boolean[]{false, true}) {
                WeightMatrix whole = WeightMatrix.of(Tensor.contiguous("q", DType.Q6_K, new long[]{rows, cols}, MemorySegment.ofArray(q.array()), "test"));
                for (int[] slice : new int[][]{{0, cols}, {256, 512}, {512, 256}}) {
                    int c0 = slice[0], n = slice[1];
                    WeightMatrix m = n == cols ? whole : whole.sliceCols(c0, n);
                    try (WorkerPool pool = new WorkerPool(2)) {
                        Repacked rp = copy ? m.repacked(pool) : repackedWithoutMemory(m, pool);
                        assertEquals(copy && PackedIntDot.REPACKED, rp != null, "copied");
                        for (int tokens : new int[]{1, 2}) {
                            float[] xs = random(tokens * n), out = new float[tokens * rows];
                            MatMul.apply(m, xs, tokens, out, pool);
                            for (int t = 0; t < tokens; t++) {
                                for (int r = 0; r < rows; r++) {
                                    Expected e = expected(deq, r * cols + c0, xs, t * n, n, 256);
                                    String what = "Q6_K rows " + rows + " cols " + c0 + "+" + n + " row " + r + " token " + t
                                            + (copy ? ", copy" : "");
                                    // with 256-bit vectors (the second test run) the float kernels take GGUF
                                    // rows, PackedIntDot256 the copy
                                    double want = Int8Activations.supports(DType.Q6_K, n) || rp != null ? e.onInt8() : e.exact();
                                    assertEquals(want, out[t * rows + r], 1e-4 * Math.max(1, e.magnitude()), what);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aMappedQ6_KMatrixServedFromItsResidentCopyGivesTheSameProducts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        // WeightMatrix.resident copies a mapped matrix into huge pages in the same layout (a column slice compacted):
        // every product and row read must be the very same floats (for a matrix no Repacked layout holds: here a Q6_K
        // one, refused its Q6Groups copy)
        int rows = 37, cols = 1024;
        ByteBuffer q = quantized(DType.Q6_K, rows, cols);
        java.nio.file.Path file = dir.resolve("q6k.bin");
        java.nio.file.Files.write(file, java.util.Arrays.copyOf(q.array(), q.limit()));
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file);
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
             WorkerPool pool = new WorkerPool(2)) {
            MemorySegment mapped = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, q.limit(), arena);
            WeightMatrix whole = WeightMatrix.of(Tensor.contiguous("q", DType.Q6_K, new long[]{rows, cols}, mapped, "test"));
            for (WeightMatrix m : new WeightMatrix[]{whole, whole.sliceCols(256, 512)}) {
                int n = m.cols();
                // the GGUF layout's kernels: no Q6Groups copy (RepackBudget read as 0 bytes when it is decided)
                assertEquals(null, repackedWithoutMemory(m, pool), "no repacked copy");
                float[] xs = random(2 * n);
                float[][] before = {new float[rows], new float[2 * rows], new float[n]};
                MatMul.apply(m, xs, 1, before[0], pool);
                MatMul.apply(m, xs, 2, before[1], pool);
                m.readRow(rows - 1, before[2], 0);
                assertTrue(!m.resident(pool, m.byteSize() + 1), "below the size asked for: no copy");
                assertTrue(m.blocks()[0].data().isMapped(), "still mapped");
                assertTrue(m.resident(pool, 0), "copied");
                assertTrue(!m.blocks()[0].data().isMapped(), "served from the copy");
                assertEquals(java.util.List.of(mapped), m.sources(), "sources are what the matrix was bound to");
                float[][] after = {new float[rows], new float[2 * rows], new float[n]};
                MatMul.apply(m, xs, 1, after[0], pool);
                MatMul.apply(m, xs, 2, after[1], pool);
                m.readRow(rows - 1, after[2], 0);
                for (int i = 0; i < 3; i++) org.junit.jupiter.api.Assertions.assertArrayEquals(before[i], after[i], m + " result " + i);
            }
        }
        // memory that is not a file mapping is not copied again
        WeightMatrix inHeap = WeightMatrix.of(Tensor.contiguous("q", DType.Q6_K, new long[]{rows, cols}, MemorySegment.ofArray(q.array()), "test"));
        try (WorkerPool pool = new WorkerPool(1)) {
            assertTrue(!inHeap.resident(pool, 0), "heap matrix not copied");
        }
    }

    @org.junit.jupiter.api.Test
    void aSquaredReluMlpChainedThroughInt8PairsGivesTheSameFloatsAsItsTwoProducts() {
        // MatMul.squaredReluMlp rounds the up projection's sums for the down projection where the tiles leave them
        // (PairTiles.panelActivated): it must give exactly what apply, squaredRelu and apply give. 1536 hidden rows
        // are 48 blocks of 32, so two threads' parts end on odd blocks and some panels have 32 rows
        int hidden = 512, ffn = 1536;
        WeightMatrix up = WeightMatrix.of(Tensor.contiguous("up", DType.Q4_0, new long[]{ffn, hidden},
                MemorySegment.ofArray(quantized(DType.Q4_0, ffn, hidden).array()), "test"));
        WeightMatrix down = WeightMatrix.of(Tensor.contiguous("down", DType.Q4_0, new long[]{hidden, ffn},
                MemorySegment.ofArray(quantized(DType.Q4_0, hidden, ffn).array()), "test"));
        for (int threads : new int[]{1, 2}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                // the integer prefill needs 16 lanes; with 8 the copies exist but prefill widens them to floats
                boolean chains = PackedIntDot.AVAILABLE && up.repacked(pool) != null && down.repacked(pool) != null;
                for (int tokens : new int[]{3, 4, 37, 80, 128}) {
                    float[] x = random(tokens * hidden), ff = new float[tokens * ffn];
                    x[7] = -30;   // an outlier
                    float[] want = new float[tokens * hidden], got = new float[tokens * hidden];
                    MatMul.apply(up, x, tokens, ff, pool);
                    Activations.squaredRelu(ff, 0, ff.length);
                    MatMul.apply(down, ff, tokens, want, pool);
                    boolean chained = MatMul.squaredReluMlp(up, down, x, tokens, got, pool);
                    assertEquals(chains && tokens >= MatMul.WIDEN_MIN_TOKENS, chained, tokens + " tokens chained");
                    if (chained) org.junit.jupiter.api.Assertions.assertArrayEquals(want, got, threads + " threads, " + tokens + " tokens");
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aQ8_0PairTheRepackedLayoutCannotHoldKeepsTheGgufKernel() {
        int rows = 3, n = 512;
        ByteBuffer q = quantized(DType.Q8_0, rows, n);
        q.put(34 * 7 + 2 + 4, (byte) -5).put(34 * 7 + 2 + 5, (byte) -128);   // (q[4], q[5]) = (-5, -128)
        checkDecode(DType.Q8_0, q, rows, n, false, 2);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
    void aMatrixWithAScaleThatIsNotFiniteKeepsTheGgufKernel(DType type) {
        // the repacked kernels turn half-precision scales into floats by moving bits, exact for finite halves only;
        // an infinite scale must not come out as a large finite one
        int rows = 3, n = 512;
        ByteBuffer q = quantized(type, rows, n);
        q.putShort((int) type.bytesFor(32) * (16 + 5), (short) 0x7C00);   // row 1, block 5: +infinity
        WeightMatrix m = WeightMatrix.of(Tensor.contiguous("q", type, new long[]{rows, n}, MemorySegment.ofArray(q.array()), "test"));
        try (WorkerPool pool = new WorkerPool(2)) {
            assertEquals(null, m.repacked(pool), "repacked");
            float[] x = random(n), out = new float[rows];
            MatMul.apply(m, x, 1, out, pool);
            assertTrue(Float.isFinite(out[0]) && Float.isFinite(out[2]), "rows 0 and 2 finite");
            assertTrue(!Float.isFinite(out[1]), "row 1 not finite: " + out[1]);
        }
    }

    /**
     * {@code m}'s repacked copy decided while {@link RepackBudget} reads 0 bytes available: none, so the matrix keeps
     * the kernels that read its own bytes (the decision is kept for the matrix's life).
     */
    private static Repacked repackedWithoutMemory(WeightMatrix m, WorkerPool pool) {
        System.setProperty("n4j.repackAvailable", "0");
        try {
            return m.repacked(pool);
        } finally {
            System.clearProperty("n4j.repackAvailable");
        }
    }

    private ByteBuffer quantized(DType type, int rows, int n) {
        float[] w = random(rows * n);
        ByteBuffer q = ByteBuffer.allocate((int) type.bytesFor((long) rows * n)).order(ByteOrder.LITTLE_ENDIAN);
        QuantCodec.quantize(type, w, 0, rows * n, q);
        return q.flip();
    }

    /** Decode (1, 2 tokens) and prefill (5, 37) against the float64 product with the dequantized weights (int8 bounds in decode). */
    private void checkDecode(DType type, ByteBuffer q, int rows, int n, boolean expectRepacked, int threads) {
        float[] deq = new float[rows * n];
        QuantCodec.dequantize(type, q.duplicate().order(ByteOrder.LITTLE_ENDIAN), deq, 0, rows * n);
        WeightMatrix m = WeightMatrix.of(Tensor.contiguous("q", type, new long[]{rows, n}, MemorySegment.ofArray(q.array()), "test"));
        try (WorkerPool pool = new WorkerPool(threads)) {
            boolean repacked = m.repacked(pool) != null;
            assertEquals(expectRepacked && PackedIntDot.REPACKED, repacked, "repacked");
            // 1 and 2 tokens decode with int8 activations; 5, 37 and 80 tokens take the prefill path: Q8_0 widens rows
            // to exact floats (37: 32 tokens in BroadcastTiles' one-vector tiles, 5 in row-major ones), a repacked Q4_0
            // runs integer tiles on int8 activations with tokens in the lanes, padded to whole vectors (PairTiles: 5
            // tokens one vector, 37 three, 80 a slab of three and one of two; rows padded to whole four-row tiles)
            for (int tokens : new int[]{1, 2, 5, 37, 80}) {
                boolean int8 = tokens < MatMul.WIDEN_MIN_TOKENS ? repacked || Int8Activations.supports(type, n)
                        : repacked && MatMul.integerPrefill(type);
                float[] xs = random(tokens * n), out = new float[tokens * rows];
                xs[5] = 40;   // an outlier: its group's int8 step grows, the others keep theirs
                java.util.Arrays.fill(xs, 64, 96, 0f);   // a block of zeros: it rounds to zeros, scale 0
                java.util.Arrays.fill(out, Float.NaN);   // apply overwrites out: nothing may be added to what was there
                MatMul.apply(m, xs, tokens, out, pool);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        Expected e = expected(deq, r * n, xs, t * n, n, type == DType.Q6_K ? 256 : 32);
                        float got = out[t * rows + r];
                        assertEquals(e.exact(), got, (int8 ? e.int8Bound() : 0) + 1e-5 * e.magnitude(), type + " row " + r + " token " + t);
                        if (int8) assertEquals(e.onInt8(), got, 1e-4 * Math.max(1, e.magnitude()), type + " int8 row " + r + " token " + t);
                    }
                }
            }
        }
    }
    /**
     * A weight row times activations in float64: the exact product, Σ|w·x|, the bound Σ|w|·dx/2 that rounding the
     * activations to int8 per {@code group} (dx = max|x| / 127) can move it by, and the exact product with those
     * int8-rounded activations.
     */
    record Expected(double exact, double magnitude, double int8Bound, double onInt8) {
    }

    static Expected expected(float[] w, int w0, float[] x, int x0, int n, int group) {
        double exact = 0, mag = 0, bound = 0, onInt8 = 0;
        for (int g = 0; g < n; g += group) {
            double amax = 0;
            for (int i = g; i < g + group; i++) amax = Math.max(amax, Math.abs(x[x0 + i]));
            double dx = amax / 127;
            for (int i = g; i < g + group; i++) {
                double wi = w[w0 + i], xi = x[x0 + i];
                exact += wi * xi;
                mag += Math.abs(wi * xi);
                bound += Math.abs(wi) * dx / 2;   // rounding to the int8 grid moves x by ≤ dx/2
                onInt8 += wi * (dx == 0 ? 0 : Math.round(xi / dx) * dx);
            }
        }
        return new Expected(exact, mag, bound, onInt8);
    }

    /**
     * The prefill rounding's block scales are amax/127 with amax the {@code Math.max} of |x| over the block, for blocks
     * of zeros, of −0, with the largest value negative, with an infinity and with a NaN (taken on the bits, step 42).
     */
    @Test
    void prefillBlockScalesAreTheLargestMagnitudeOver127() {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorDot.LANES == 16, "the integer prefill needs 16 float lanes");
        int tokens = 70, cols = 128, blocks = cols / 32, padded = PairTiles.padded(tokens);
        float[] x = new float[tokens * cols];
        SplittableRandom r = new SplittableRandom(12);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int c = 0; c < 32; c++) {
            x[3 * cols + c] = 0f;                         // token 3, block 0: zeros
            x[5 * cols + 32 + c] = c % 2 == 0 ? -0f : 0f; // token 5, block 1: signed zeros
        }
        x[7 * cols + 64 + 9] = -50f;                      // token 7, block 2: the largest magnitude negative
        x[8 * cols + 96 + 1] = Float.POSITIVE_INFINITY;   // token 8, block 3
        x[60 * cols + 3] = Float.NaN;                     // token 60 (third slab), block 0
        int[] xt = new int[padded * cols / 2];
        float[] xst = new float[padded * blocks];
        try (WorkerPool pool = new WorkerPool(2)) {
            PairTiles.quantize(x, tokens, cols, xt, xst, pool);
        }
        for (int t = 0; t < tokens; t++) {
            int t0 = t / PairTiles.SPAN * PairTiles.SPAN, sw = Math.min(PairTiles.SPAN, padded - t0);
            for (int b = 0; b < blocks; b++) {
                float amax = 0;
                for (int c = 0; c < 32; c++) amax = Math.max(amax, Math.abs(x[t * cols + 32 * b + c]));
                assertEquals(amax / 127f, xst[t0 * blocks + b * sw + (t - t0)], "token " + t + " block " + b);
                if (amax == 0) {   // zeros round to zero pairs (127/amax is ∞ there, and 0·∞ = NaN converts to 0)
                    for (int s = 0; s < 16; s++) assertEquals(0, xt[t0 * cols / 2 + (16 * b + s) * sw + (t - t0)], "token " + t + " block " + b + " pair " + s);
                }
            }
        }
    }
}
