package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;

/**
 * {@code out[t, r] = Σ_c W[r, c] · x[t, c]} for {@code T} activation rows, split over rows of W across the pool.
 * Rows of {@code x} and {@code out} are packed with strides {@code W.cols()} and {@code W.rows()}.
 *
 * <p>Loop order per thread: a panel of {@link #PANEL_ROWS} weight rows (small enough to stay in L2) is used for
 * every token before the next panel is read, so each weight byte comes from memory once per call; inside a
 * panel, register tiles do the arithmetic: {@link BroadcastTiles} (tokens in the vector lanes) for whole vectors of
 * tokens, row-major 4×4 tiles ({@link TiledMatMul}) for the rest. Fewer tokens stream weight rows directly.
 */
public final class MatMul {
    /** Weight rows per cache panel: 64 rows × 4096 BF16 columns = 512 KB. */
    static final int PANEL_ROWS = 64;
    /** Each thread's widened panel, kept between calls (a pool thread runs several parts of every matmul). */
    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);
    /** Each thread's Q4_0 panel as value pairs ({@link Repacked#toPairs}) and its block scales. */
    private static final ThreadLocal<int[]> PAIRS = ThreadLocal.withInitial(() -> new int[0]);
    private static final ThreadLocal<float[]> PAIR_SCALES = ThreadLocal.withInitial(() -> new float[0]);
    /** The calling thread's int8 activations and their scales transposed for {@link PairTiles}. */
    private static final ThreadLocal<int[]> PAIRS_TRANSPOSED = ThreadLocal.withInitial(() -> new int[0]);
    private static final ThreadLocal<float[]> PAIR_SCALES_TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);
    /** Each thread's {@link PairTiles} accumulators for one panel. */
    private static final ThreadLocal<float[]> PAIR_SUMS = ThreadLocal.withInitial(() -> new float[0]);
    /** A/B switch for measurements: Q4_0 prefill through widened floats instead of {@link PairTiles}. */
    private static final boolean FLOAT_PREFILL = Boolean.getBoolean("n4j.floatPrefill");
    /** The calling thread's activations reordered for a repacked matrix (see {@link Repacked#permute}). */
    private static final ThreadLocal<float[]> PERMUTED = ThreadLocal.withInitial(() -> new float[0]);
    /** The calling thread's activations transposed for {@link BroadcastTiles}. */
    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);
    /** Each thread's {@link BroadcastTiles} accumulators for one panel. */
    private static final ThreadLocal<float[]> TILE_SUMS = ThreadLocal.withInitial(() -> new float[0]);
    /** A/B switch for measurements: every token through the row-major 4×4 tiles instead of {@link BroadcastTiles}. */
    private static final boolean ROW_TILES = Boolean.getBoolean("n4j.rowTiles");

    /**
     * A/B switch for measurements: Q4_0 prefill without reading the next panel's bytes ahead ({@link Repacked#touch}).
     */
    private static final boolean TOUCH = !Boolean.getBoolean("n4j.noTouch");
    /** Where the bytes {@link Repacked#touch} reads go, so that the loads are not dropped as dead code. */
    private static long touched;

    private MatMul() {
    }

    public static void apply(WeightMatrix w, float[] x, int tokens, float[] out, WorkerPool pool) {
        int rows = w.rows(), cols = w.cols();
        WeightMatrix.Block[] blocks = w.blocks();
        DType dtype = w.dtype();
        Repacked rp = w.repacked(pool);
        if (tokens >= WIDEN_MIN_TOKENS) {
            if (rp != null && integerPrefill(rp.dtype)) panelledPairs(rp, rows, cols, x, tokens, out, pool);
            else if (rp != null) panelledRepacked(rp, rows, cols, x, tokens, out, pool);
            else panelled(w, x, tokens, out, pool);
            return;
        }
        if (rp != null && rp.dtype == DType.BF16) {
            quads(rp, rows, cols, x, tokens, out, pool);
            return;
        }
        if (rp != null) {
            repacked(rp, rows, cols, Int8Activations.forThisThread().prepare(dtype, true, x, tokens * cols), tokens, out, pool);
            return;
        }
        // Q6_K/Q4_0 rows multiply int8 activations (PackedIntDot); the others take the floats as they are
        Int8Activations a = Int8Activations.supports(dtype, cols) && groupsAligned(blocks, dtype)
                ? Int8Activations.forThisThread().prepare(dtype, x, tokens * cols) : null;
        pool.forStreams(rows, (long) cols * tokens, (chunk, r0, r1) -> {
            for (int t = 0; t < tokens; t++) java.util.Arrays.fill(out, t * rows + r0, t * rows + r1, 0f);
            for (WeightMatrix.Block b : blocks) {
                int lo = Math.max(r0, b.rowStart()), hi = Math.min(r1, b.rowStart() + b.rows());
                int c0 = b.colStart(), n = b.cols();
                int r = lo;
                // long BF16 rows four at a time (VectorDot.bf16Rows4); shorter ones, and the other types, one row at a
                // time: faster than 4 interleaved rows for rows of 2 KB (bench/NOTES.md, steps 3 and 26)
                if (MULTI_ROW && a == null && dtype == DType.BF16 && 2L * n >= ROWS4_MIN_BYTES) {
                    for (; r + 4 <= hi; r += 4) {
                        for (int t = 0; t < tokens; t++) {
                            VectorDot.bf16Rows4(b.data(), rowOffset(b, r), b.rowStride(), x, t * cols + c0, n, out, t * rows + r);
                        }
                    }
                }
                // one token: the int8 kernels and BF16 rows run all the part's rows in one loop
                if (a != null && tokens == 1) {
                    if (r < hi) PackedIntDot.dot(dtype, b.data(), rowOffset(b, r), b.rowStride(), hi - r, a, c0, n, out, r);
                    continue;
                }
                if (dtype == DType.BF16 && tokens == 1 && n % (4 * VectorDot.LANES) == 0) {
                    if (r < hi) VectorDot.bf16Rows(b.data(), rowOffset(b, r), b.rowStride(), hi - r, x, c0, n, out, r);
                    continue;
                }
                for (; r < hi; r++) {
                    for (int t = 0; t < tokens; t++) {
                        if (a == null) out[t * rows + r] += VectorDot.dot(dtype, b.data(), rowOffset(b, r), x, t * cols + c0, n);
                        else PackedIntDot.dot(dtype, b.data(), rowOffset(b, r), b.rowStride(), 1, a, t * cols + c0, n, out, t * rows + r);
                    }
                }
            }
        });
    }

    /**
     * Whether prefill with a repacked matrix of {@code dtype} rounds the activations to int8 ({@link PairTiles}, or
     * {@link PairTiles256} with 8 lanes).
     */
    static boolean integerPrefill(DType dtype) {
        return dtype == DType.Q4_0 && !FLOAT_PREFILL;
    }

    /** Column blocks start on activation group boundaries (always so for one tensor; checked for merged shards). */
    private static boolean groupsAligned(WeightMatrix.Block[] blocks, DType dtype) {
        for (WeightMatrix.Block b : blocks) if (b.colStart() % dtype.blockSize() != 0) return false;
        return true;
    }

    /**
     * BF16 rows of this many bytes and more are multiplied four at a time in decode ({@link VectorDot#bf16Rows4});
     * shorter rows one at a time, faster for them (rows of 2 and 4 KB were slower four at a time: four short streams
     * instead of one; bench/NOTES.md, step 26). Repacked Q8_0 rows, which once had a four-row kernel too (step 28),
     * are now cut into slabs of at most 4352 bytes a row and go one at a time (step 33).
     */
    static final long ROWS4_MIN_BYTES = 6144;

    /**
     * A/B switch for measurements: decode one row at a time, instead of Q4_0 rows in pairs ({@link
     * PackedIntDot#dotQ4Pairs}) and long BF16 rows in fours ({@link VectorDot#bf16Rows4}).
     */
    private static final boolean MULTI_ROW = !Boolean.getBoolean("n4j.oneRow");

    /** {@code rows} rows of a Q6_K copy from row {@code r}, in the layout it has ({@link Q6Words#USED}). */
    private static void q6(Repacked rp, int r, int rows, Int8Activations a, int x0, int cols, float[] out, int o) {
        if (Q6Words.USED) PackedIntDot.dotQ6Words(rp.data, rp.row(r, 0), rows, a, x0, cols, out, o);
        else PackedIntDot.dotQ6Groups(rp.data, rp.row(r, 0), rows, a, x0, cols, out, o);
    }

    /** Decode with a repacked Q4_0 or Q8_0 matrix (16 blocks per vector, see {@link Repacked}), or a Q6_K one. */
    private static void repacked(Repacked rp, int rows, int cols, Int8Activations a, int tokens, float[] out, WorkerPool pool) {
        if (rp.dtype == DType.Q6_K) {
            // rows one after another: one token runs all the part's rows in one loop, as for GGUF rows
            pool.forStreams(rows, (long) cols * tokens, (chunk, r0, r1) -> {
                for (int t = 0; t < tokens; t++) java.util.Arrays.fill(out, t * rows + r0, t * rows + r1, 0f);
                if (tokens == 1) q6(rp, r0, r1 - r0, a, 0, cols, out, r0);
                else {
                    for (int r = r0; r < r1; r++) {
                        for (int t = 0; t < tokens; t++) q6(rp, r, 1, a, t * cols, cols, out, t * rows + r);
                    }
                }
            });
            return;
        }
        // slab by slab (each a stream of its own, see Repacked.SLAB_GROUPS), adding up the slabs' products
        if (rp.dtype == DType.Q8_0) {
            pool.forStreams(rows, (long) cols * tokens, (chunk, r0, r1) -> {
                for (int t = 0; t < tokens; t++) java.util.Arrays.fill(out, t * rows + r0, t * rows + r1, 0f);
                for (int s = 0; s < rp.slabs; s++) {
                    int x0 = Repacked.GROUP * rp.slabStart(s), n = rp.slabGroups(s);
                    if (tokens == 1) PackedIntDot.dotQ8Rows(rp.data, rp.row(r0, s), r1 - r0, a, x0, n, out, r0);
                    else {
                        for (int r = r0; r < r1; r++) {
                            for (int t = 0; t < tokens; t++) PackedIntDot.dotQ8Rows(rp.data, rp.row(r, s), 1, a, t * cols + x0, n, out, t * rows + r);
                        }
                    }
                }
            });
            return;
        }
        // Q4_0: the two rows of a stored pair together; one token runs all the part's whole pairs of a slab in one
        // loop (PackedIntDot.dotQ4Pairs), more tokens take each pair for every token in turn. Parts are whole pairs:
        // where a part began or ended on an odd row, that row went alone through dotQ4Repacked, which then ran a few
        // times per product, too rarely for C2, so its vector operations stayed C1-compiled and boxed (a few such
        // rows in each 1024-row product; bench/NOTES.md, step 49). Only a matrix of odd rows still has a row alone.
        pool.forStreams((rows + 1) / 2, 2L * cols * tokens, (chunk, q0, q1) -> {
            int r0 = 2 * q0, r1 = Math.min(rows, 2 * q1);
            for (int t = 0; t < tokens; t++) java.util.Arrays.fill(out, t * rows + r0, t * rows + r1, 0f);
            for (int s = 0; s < rp.slabs; s++) {
                int x0 = Repacked.GROUP * rp.slabStart(s), n = rp.slabGroups(s);
                for (int r = r0; r < r1; ) {
                    long row = rp.row(r, s);
                    int pairs = MULTI_ROW && (r & 1) == 0 ? (r1 - r) / 2 : 0;
                    if (pairs > 0 && tokens == 1) {
                        PackedIntDot.dotQ4Pairs(rp.data, row, pairs, a, x0, n, out, r);
                        r += 2 * pairs;
                    } else if (pairs > 0) {
                        for (int t = 0; t < tokens; t++) PackedIntDot.dotQ4Pairs(rp.data, row, 1, a, t * cols + x0, n, out, t * rows + r);
                        r += 2;
                    } else {
                        for (int t = 0; t < tokens; t++) out[t * rows + r] += PackedIntDot.dotQ4Repacked(rp.data, row, row + Repacked.q4Words(r, 0), a, t * cols + x0, n);
                        r++;
                    }
                }
            }
        });
    }

    /**
     * Decode with a repacked BF16 matrix, column slab by column slab (the first slab stores the sums, the others add
     * to them): a part's whole quads in one loop ({@link VectorDot#bf16Quads}), rows it leaves outside whole quads one
     * at a time (parts of large matrices start on multiples of 16 rows, see {@link WorkerPool}). With one token a
     * slab's quads go in one run; with two or three, in runs of {@link #QUAD_RUN} quads (64 KB a slab of 1024 columns)
     * that every token multiplies before the next run, so the weights are read from DRAM once.
     */
    private static void quads(Repacked rp, int rows, int cols, float[] x, int tokens, float[] out, WorkerPool pool) {
        if (tokens == 1 && rp.slabs > 1 && pool.threads() > 1 && SLAB_MAJOR) {
            quadsInMemoryOrder(rp, rows, x, out, pool);
            return;
        }
        pool.forStreams(rows, (long) cols * tokens, (chunk, r0, r1) -> {
            int qa = Math.min(r1, (r0 + 3) & ~3), qb = Math.max(qa, r1 & ~3);   // whole quads [qa, qb), rows outside them
            int run = tokens == 1 ? Math.max(4, qb - qa) : 4 * QUAD_RUN;
            for (int s = 0; s < rp.slabs; s++) {
                boolean add = s > 0;
                int c0 = Repacked.BF16_CHUNK * rp.slabStart(s), n = rp.slabGroups(s);
                for (int r = r0; r < qa; r++) quadRow(rp, r, s, c0, n, x, tokens, cols, out, rows, add);
                for (int q = qa; q < qb; q += run) {
                    int count = Math.min(run, qb - q) / 4;
                    for (int t = 0; t < tokens; t++) {
                        VectorDot.bf16Quads(rp.data, rp.row(q, s), count, x, t * cols + c0, n, out, t * rows + q, add);
                    }
                }
                for (int r = qb; r < r1; r++) quadRow(rp, r, s, c0, n, x, tokens, cols, out, rows, add);
            }
        });
    }

    /** A/B switch for measurements: {@code -Dn4j.slabMajor=false} splits multi-slab BF16 decode by rows as before. */
    private static final boolean SLAB_MAJOR = !"false".equals(System.getProperty("n4j.slabMajor"));
    /** The calling thread's per-slab sums for {@link #quadsInMemoryOrder}. */
    private static final ThreadLocal<float[]> SLAB_SUMS = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * One token times a BF16 copy of several column slabs, split over the pool in the copy's memory order (slab by
     * slab, whole quads): a part then reads one stretch of memory however many slabs it spans, where a split by rows
     * gave each part one short stretch per slab, each a stream the hardware prefetcher had to find again (the small
     * model's down projection, 4 slabs of 2 MB, read 35–37 GB/s against 47 for its up projection of one slab; bench/
     * NOTES.md, step 59). Each slab's sums are stored to a scratch row of their own (one writer per quad and slab), and
     * a second pass adds the slabs up in order: the same floats, added in the same order, as the split by rows, which
     * stores the first slab's sums and adds the others', whichever thread computed what.
     */
    private static void quadsInMemoryOrder(Repacked rp, int rows, float[] x, float[] out, WorkerPool pool) {
        int nq = (rows + 3) / 4, slabs = rp.slabs, stride = 4 * nq;
        float[] sums = floats(SLAB_SUMS, slabs * stride);
        pool.forStreams(slabs * nq, 4L * Repacked.BF16_CHUNK * rp.slabGroups(0), (chunk, u0, u1) -> {
            for (int s = u0 / nq; s < slabs && s * nq < u1; s++) {
                int q0 = Math.max(u0, s * nq) - s * nq, q1 = Math.min(u1, (s + 1) * nq) - s * nq;
                VectorDot.bf16Quads(rp.data, rp.row(4 * q0, s), q1 - q0, x, Repacked.BF16_CHUNK * rp.slabStart(s),
                        rp.slabGroups(s), sums, s * stride + 4 * q0, false);
            }
        });
        pool.forRange(rows, 8L * slabs, (chunk, r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                float v = sums[r];
                for (int s = 1; s < slabs; s++) v += sums[s * stride + r];
                out[r] = v;
            }
        });
    }

    /** Quads {@link #quads} multiplies by every token before the next ones when there are several tokens. */
    private static final int QUAD_RUN = 8;

    /** Row {@code r}'s slab {@code s} ({@code n} chunks from column {@code c0}) times every token, stored or added. */
    private static void quadRow(Repacked rp, int r, int s, int c0, int n, float[] x, int tokens, int cols, float[] out,
                                int rows, boolean add) {
        for (int t = 0; t < tokens; t++) {
            float v = VectorDot.bf16QuadRow(rp.data, rp.row(r, s), x, t * cols + c0, n);
            out[t * rows + r] = add ? out[t * rows + r] + v : v;
        }
    }

    /** From this many tokens on, widening each weight panel once into floats pays for itself. */
    public static final int WIDEN_MIN_TOKENS = 4;

    /**
     * Prefill: per thread, a panel of {@link #PANEL_ROWS} weight rows is widened into a float scratch (once), then
     * multiplied with every token in register tiles ({@link #tiles}): weights leave memory once, the arithmetic runs
     * from L1/L2.
     */
    private static void panelled(WeightMatrix w, float[] x, int tokens, float[] out, WorkerPool pool) {
        int rows = w.rows(), cols = w.cols();
        DType dtype = w.dtype();
        int width = ROW_TILES ? 0 : BroadcastTiles.width(tokens);
        float[] xt = transposed(x, cols, width, null, pool);
        pool.forRange(rows, (long) cols * tokens, (chunk, r0, r1) -> {
            for (int t = 0; t < tokens; t++) java.util.Arrays.fill(out, t * rows + r0, t * rows + r1, 0f);
            for (WeightMatrix.Block b : w.blocks()) {
                int lo = Math.max(r0, b.rowStart()), hi = Math.min(r1, b.rowStart() + b.rows());
                int c0 = b.colStart(), n = b.cols();
                float[] panel = floats(PANEL, PANEL_ROWS * n);
                for (int p0 = lo; p0 < hi; p0 += PANEL_ROWS) {
                    int p1 = Math.min(hi, p0 + PANEL_ROWS);
                    for (int r = p0; r < p1; r++) VectorDot.toFloats(dtype, b.data(), rowOffset(b, r), panel, (r - p0) * n, n);
                    tiles(panel, p0, p1, x, xt, width, c0, n, cols, tokens, out, rows);
                }
            }
        });
    }

    /** Prefill with a repacked matrix: rows widen from the copy (the mapped GGUF bytes are not read again). */
    private static void panelledRepacked(Repacked rp, int rows, int cols, float[] x, int tokens, float[] out, WorkerPool pool) {
        int width = ROW_TILES ? 0 : BroadcastTiles.width(tokens);
        float[] xt = transposed(x, cols, width, rp.positions(), pool);
        float[] xs = x;
        if (rp.columns() != null) {
            xs = floats(PERMUTED, tokens * cols);
            rp.permute(x, width, tokens, cols, xs); // the tokens the row-major tiles take
        }
        float[] xp = xs;
        pool.forRange(rows, (long) cols * tokens, (chunk, r0, r1) -> {
            for (int t = 0; t < tokens; t++) java.util.Arrays.fill(out, t * rows + r0, t * rows + r1, 0f);
            float[] panel = floats(PANEL, PANEL_ROWS * cols);
            for (int p0 = r0; p0 < r1; p0 += PANEL_ROWS) {
                int p1 = Math.min(r1, p0 + PANEL_ROWS);
                for (int r = p0; r < p1; r++) rp.toFloats(r, panel, (r - p0) * cols);
                tiles(panel, p0, p1, xp, xt, width, 0, cols, cols, tokens, out, rows);
            }
        });
    }

    /**
     * Prefill with a repacked Q4_0 matrix in integers: activations rounded to int8 once per call (as decode does) and
     * laid out for {@link PairTiles} (tokens in the vector lanes), a panel of rows widened into value pairs once, then
     * four rows × up to 48 tokens per tile (the rows past the panel's last in its last tile are whatever the scratch
     * holds, their sums dropped). The tiles store their sums: {@code out} is not zeroed first (a pass that cost ≈ 3 %
     * of a prefill; bench/NOTES.md, step 36).
     */
    private static void panelledPairs(Repacked rp, int rows, int cols, float[] x, int tokens, float[] out, WorkerPool pool) {
        int half = cols / 2, blocks = cols / 32, padded = PairTiles.padded(tokens);
        int[] xt = ints(PAIRS_TRANSPOSED, padded * half);
        float[] xst = floats(PAIR_SCALES_TRANSPOSED, padded * blocks);
        if (PackedIntDot.WIDE) PairTiles.quantize(x, tokens, cols, xt, xst, pool);
        else PairTiles256.quantize(x, tokens, cols, xt, xst, pool);
        pairPanels(rp, rows, cols, xt, xst, tokens, out, pool);
    }

    /** The {@link PairTiles} product of {@code rp} with activations already {@link PairTiles#quantize}d. */
    private static void pairPanels(Repacked rp, int rows, int cols, int[] xt, float[] xst, int tokens, float[] out, WorkerPool pool) {
        int half = cols / 2, blocks = cols / 32;
        pool.forRange(rows, (long) cols * tokens, (chunk, r0, r1) -> {
            int[] panel = ints(PAIRS, PANEL_ROWS * half);
            float[] ps = floats(PAIR_SCALES, PANEL_ROWS * blocks);
            float[] acc = floats(PAIR_SUMS, PANEL_ROWS * PairTiles.SPAN);
            for (int p0 = r0; p0 < r1; p0 += PANEL_ROWS) {
                int p1 = Math.min(r1, p0 + PANEL_ROWS), live = p1 - p0, height = (live + 3) & ~3;
                widen(rp, p0, p1, half, panel, ps, blocks, r1);
                if (PackedIntDot.WIDE) PairTiles.panel(panel, ps, height, live, xt, xst, tokens, cols, acc, out, p0, rows);
                else PairTiles256.panel(panel, ps, height, live, xt, xst, tokens, cols, acc, out, p0, rows);
            }
        });
    }

    /** Rows {@code [p0, p1)} of {@code rp} into a pair panel, then the next panel's bytes (up to {@code end}) asked for. */
    private static void widen(Repacked rp, int p0, int p1, int half, int[] panel, float[] ps, int blocks, int end) {
        for (int r = p0; r < p1; r++) {
            rp.toPairs(r, panel, PairTiles.rowStart(r - p0, half), PairTiles.QUAD_STRIDE, ps, (r - p0) * blocks);
        }
        // the next panel's bytes asked for now, while this one's tiles run, rather than when they are widened
        if (TOUCH) touched += rp.touch(p1, Math.min(end, p1 + PANEL_ROWS));
    }

    /** A/B switch for measurements: a squared-ReLU MLP's two products one after the other, not {@link #squaredReluMlp}. */
    private static final boolean UNCHAINED_MLP = Boolean.getBoolean("n4j.unchainedMlp");
    /** The calling thread's activated up projection as {@link PairTiles} input of the down projection. */
    private static final ThreadLocal<int[]> ACTIVATED_PAIRS = ThreadLocal.withInitial(() -> new int[0]);
    private static final ThreadLocal<float[]> ACTIVATED_SCALES = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * A squared-ReLU MLP of a batch, {@code out = down · max(up · x, 0)²}, with the up projection's sums activated
     * and rounded to the down projection's int8 pairs where they are computed ({@link PairTiles#panelActivated}),
     * instead of stored as floats, activated, and transposed and rounded again: the same values as {@link #apply}
     * twice around {@link Activations#squaredRelu}. Returns false, having done nothing, where the two do not chain:
     * fewer than {@link #WIDEN_MIN_TOKENS} tokens, either matrix without a repacked Q4_0 copy, or a hidden width
     * ({@code up}'s rows, {@code down}'s columns) that is not whole Q4_0 blocks.
     */
    public static boolean squaredReluMlp(WeightMatrix up, WeightMatrix down, float[] x, int tokens, float[] out, WorkerPool pool) {
        // (the chaining is written for PairTiles' 16 lanes; with 8 the two products run one after the other)
        if (tokens < WIDEN_MIN_TOKENS || UNCHAINED_MLP || !PackedIntDot.WIDE || up.rows() != down.cols() || up.rows() % 32 != 0) return false;
        Repacked ru = up.repacked(pool), rd = down.repacked(pool);
        if (ru == null || rd == null || !integerPrefill(ru.dtype) || !integerPrefill(rd.dtype)) return false;
        int cols = up.cols(), ffn = up.rows(), half = cols / 2, blocks = cols / 32, padded = PairTiles.padded(tokens);
        int[] xt = ints(PAIRS_TRANSPOSED, padded * half);
        float[] xst = floats(PAIR_SCALES_TRANSPOSED, padded * blocks);
        PairTiles.quantize(x, tokens, cols, xt, xst, pool);
        int[] xt2 = ints(ACTIVATED_PAIRS, padded * ffn / 2);
        float[] xst2 = floats(ACTIVATED_SCALES, padded * ffn / 32);
        // parts of whole 32-row blocks: a block's rows are one int8 group of the down projection's input
        pool.forRange(ffn / 32, 32L * cols * tokens, (chunk, b0, b1) -> {
            int[] panel = ints(PAIRS, PANEL_ROWS * half);
            float[] ps = floats(PAIR_SCALES, PANEL_ROWS * blocks);
            float[] acc = floats(PAIR_SUMS, PANEL_ROWS * PairTiles.SPAN);
            int r1 = 32 * b1;
            for (int p0 = 32 * b0; p0 < r1; p0 += PANEL_ROWS) {
                int p1 = Math.min(r1, p0 + PANEL_ROWS);
                widen(ru, p0, p1, half, panel, ps, blocks, r1);
                PairTiles.panelActivated(panel, ps, p1 - p0, xt, xst, tokens, cols, acc, xt2, xst2, p0 / 32, ffn);
            }
        });
        pairPanels(rd, down.rows(), ffn, xt2, xst2, tokens, out, pool);
        return true;
    }

    /**
     * {@code x} transposed for {@link BroadcastTiles} (tokens {@code [0, width)}, columns moved to {@code positions}
     * when not null), or null when {@code width} is 0.
     */
    private static float[] transposed(float[] x, int cols, int width, int[] positions, WorkerPool pool) {
        if (width == 0) return null;
        float[] xt = floats(TRANSPOSED, cols * width);
        BroadcastTiles.transpose(x, cols, width, positions, xt, pool);
        return xt;
    }

    /**
     * Rows {@code [p0, p1)} of a widened panel (row {@code r} at {@code (r-p0)·n}) times columns {@code c0‥c0+n} of
     * every token, added to {@code out}: tokens {@code [0, width)} through {@link BroadcastTiles} (from {@code xt}),
     * the rest in 4×4 row-major tiles, then the leftover rows and tokens one dot at a time.
     */
    private static void tiles(float[] panel, int p0, int p1, float[] x, float[] xt, int width, int c0, int n, int cols,
                              int tokens, float[] out, int rows) {
        if (width > 0) {
            float[] sums = floats(TILE_SUMS, PANEL_ROWS * BroadcastTiles.SPAN);
            BroadcastTiles.panel(panel, p0, p1, n, xt, cols, c0, width, sums, out, rows);
        }
        int t = width;
        for (; t + 4 <= tokens; t += 4) {
            int r = p0;
            for (; r + 4 <= p1; r += 4) {
                TiledMatMul.tile4x4(panel, (r - p0) * n, n, x, t * cols + c0, cols, n, out, t * rows + r, rows);
            }
            for (; r < p1; r++) {
                for (int k = 0; k < 4; k++) {
                    out[(t + k) * rows + r] += VectorDot.dot(panel, (r - p0) * n, x, (t + k) * cols + c0, n);
                }
            }
        }
        for (; t < tokens; t++) {
            for (int r = p0; r < p1; r++) out[t * rows + r] += VectorDot.dot(panel, (r - p0) * n, x, t * cols + c0, n);
        }
    }

    /** This thread's scratch in {@code t}, grown to at least {@code n} floats (kept for later calls). */
    private static float[] floats(ThreadLocal<float[]> t, int n) {
        float[] a = t.get();
        if (a.length < n) t.set(a = new float[n]);
        return a;
    }

    /** As {@link #floats}, for ints. */
    private static int[] ints(ThreadLocal<int[]> t, int n) {
        int[] a = t.get();
        if (a.length < n) t.set(a = new int[n]);
        return a;
    }

    private static long rowOffset(WeightMatrix.Block b, int r) {
        return b.offset() + (long) (r - b.rowStart()) * b.rowStride();
    }
}
