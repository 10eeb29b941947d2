package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.nemotron4j.engine.kernels.PackedIntDot256.F8;
import static dev.nemotron4j.engine.kernels.PackedIntDot256.I8;
import static dev.nemotron4j.engine.kernels.PairTiles.QUAD_STRIDE;

/**
 * {@link PairTiles}' integer Q4_0 prefill for 256-bit vectors (AVX2: eight int lanes, 16 registers): the same weight
 * panels of signed value pairs ({@link Repacked#toPairs}, quads interleaved as {@link PairTiles#rowStart} says), the
 * same int8 activation pairs and scales, and the same two multiply-adds per 32-bit multiply, with eight tokens to a
 * vector. Slabs are {@link #SPAN} tokens, laid out as {@link PairTiles#quantize} lays out its slabs.
 *
 * <p>A tile is four rows × two token vectors: eight int accumulators, two activation vectors and a broadcast fit
 * AVX2's registers, and the float sums live in the scratch, each block's eight sums converted, scaled and added
 * there (with them in registers too the tile would need 19). On one core (Zen 5 run with {@code -XX:UseAVX=2}) such a
 * tile ran 81 GMAC/s against 49 for the float tiles of {@link BroadcastTiles} on widened rows (bench/NOTES.md, step
 * 65). Each panel is first re-laid with a quad's four rows side by side ({@link #adjacent}), so that a step's four
 * broadcasts read one 16-byte run rather than four lines 64 bytes apart: 4B Q4_0 prefill ≈ 10 % faster (step 67;
 * {@code -Dn4j.quadPanels=true} keeps {@link PairTiles}' layout, for measurements).
 */
final class PairTiles256 {
    /** Tokens per slab: two vectors of eight. */
    static final int SPAN = 16;
    /** Blocks per chunk: 16 blocks × 16 steps × 16 tokens × 4 bytes = 16 KB of activations, kept in L1. */
    static final int CHUNK_BLOCKS = 16;

    private PairTiles256() {
    }

    /** {@code tokens} rounded up to whole vectors of eight: the tokens {@link #quantize} lays out. */
    static int padded(int tokens) {
        return (tokens + 7) / 8 * 8;
    }

    /**
     * The activations of {@code tokens} rows of {@code cols} values rounded to int8 per 32-value block as {@link
     * PairTiles#quantize} rounds them (the same pairs, in the same step order, and the same scales), laid out for the
     * tiles: slab {@code k} holds tokens {@code [t0, t0 + sw)} ({@code t0 = SPAN·k}, {@code sw} = {@link #SPAN} or 8 in
     * a last slab), step {@code s} of block {@code b} for token {@code t0 + j} at {@code xt[t0·cols/2 + (16b + s)·sw +
     * j]}, the block's scale at {@code xst[t0·cols/32 + b·sw + j]}; tokens past the last repeat it. Per vector of eight
     * tokens and block: the block's 32 values gathered with the tokens in the lanes, then the maxima, scales and pairs
     * as whole vectors, stored where the tiles read them. Split over the pool by vectors of tokens.
     */
    static void quantize(float[] x, int tokens, int cols, int[] xt, float[] xst, WorkerPool pool) {
        int half = cols / 2, blocks = cols / 32, padded = padded(tokens);
        int[] step = Int8Activations.Q4_STEP;
        pool.forRange(padded / 8, (long) 32 * cols, (chunk, v0, v1) -> {
            float[] t = BLOCK.get();
            int[] rows = ROWS.get();
            for (int v = v0; v < v1; v++) {
                int first = 8 * v, t0 = first / SPAN * SPAN, u = first - t0, sw = Math.min(SPAN, padded - t0);
                for (int j = 0; j < 8; j++) rows[j] = (Math.min(first + j, tokens - 1) - first) * cols;
                for (int b = 0; b < blocks; b++) {
                    int x0 = first * cols + 32 * b;
                    IntVector bits = IntVector.zero(I8);
                    for (int k = 0; k < 32; k++) {
                        FloatVector g = FloatVector.fromArray(F8, x, x0 + k, rows, 0);
                        g.intoArray(t, 8 * k);
                        bits = bits.max(g.reinterpretAsInts().and(Int8Activations.ABS_BITS));
                    }
                    FloatVector amax = bits.reinterpretAsFloats();
                    amax.div(127f).intoArray(xst, t0 * blocks + b * sw + u);
                    FloatVector inv = FloatVector.broadcast(F8, 127f).div(amax);   // ∞ for a block of zeros: rounds to 0
                    int d = t0 * half + 16 * b * sw + u;
                    for (int s = 0; s < 16; s++) {
                        int a = step[s];
                        IntVector qa = (IntVector) FloatVector.fromArray(F8, t, 8 * a).mul(inv).add(Int8Activations.ROUNDER)
                                .sub(Int8Activations.ROUNDER).convert(VectorOperators.F2I, 0);
                        IntVector qb = (IntVector) FloatVector.fromArray(F8, t, 8 * (a + 2)).mul(inv).add(Int8Activations.ROUNDER)
                                .sub(Int8Activations.ROUNDER).convert(VectorOperators.F2I, 0);
                        qa.lanewise(VectorOperators.LSHL, 16).add(qb).intoArray(xt, d + s * sw);
                    }
                }
            }
        });
    }

    /** Per thread: one block of eight tokens, value {@code k} of token {@code j} at {@code 8k + j}. */
    private static final ThreadLocal<float[]> BLOCK = ThreadLocal.withInitial(() -> new float[256]);
    /** Per thread: the gather's offsets of eight tokens' rows (a last, partial vector repeats its last token). */
    private static final ThreadLocal<int[]> ROWS = ThreadLocal.withInitial(() -> new int[8]);

    /**
     * As {@link PairTiles#panel}: rows {@code [0, height)} of a pair panel ({@code height} a multiple of 4) times the
     * {@link #quantize}d activations of every token, the products of rows {@code [0, live)} and tokens {@code [0,
     * tokens)} stored to {@code out[t·rows + r0 + r]}. {@code acc} is scratch of at least {@code height·SPAN} floats.
     */
    static void panel(int[] pairs, float[] ps, int height, int live, int[] xt, float[] xst, int tokens, int cols,
                      float[] acc, float[] out, int r0, int rows) {
        int padded = padded(tokens), half = cols / 2, blocks = cols / 32;
        int[] panel = ADJACENT ? adjacent(pairs, height, half) : pairs;
        for (int t0 = 0; t0 < padded; t0 += SPAN) {
            int sw = Math.min(SPAN, padded - t0), xBase = t0 * half, sBase = t0 * blocks;
            java.util.Arrays.fill(acc, 0, height * SPAN, 0f);
            for (int c = 0; c < blocks; c += CHUNK_BLOCKS) {
                int nb = Math.min(CHUNK_BLOCKS, blocks - c);
                for (int r = 0; r < height; r += 4) {
                    if (sw == SPAN) tile4x2(panel, r * half, ps, r * blocks, blocks, xt, xBase, xst, sBase, c, nb, acc, r * SPAN);
                    else tile4x1(panel, r * half, ps, r * blocks, blocks, xt, xBase, xst, sBase, c, nb, acc, r * SPAN);
                }
            }
            // rows inner: consecutive in out
            for (int t = 0, n = Math.min(tokens, t0 + sw) - t0; t < n; t++) {
                int o = (t0 + t) * rows + r0;
                for (int r = 0; r < live; r++) out[o + r] = acc[r * SPAN + t];
            }
        }
    }

    /** Whether tiles read the {@link #adjacent} layout (A/B switch for measurements: {@code -Dn4j.quadPanels=true}). */
    static final boolean ADJACENT = !Boolean.getBoolean("n4j.quadPanels");
    /** Where a quad's rows 1, 2 and 3 are from row 0's pair. */
    private static final int R1 = ADJACENT ? 1 : 16, R2 = 2 * R1, R3 = 3 * R1;
    private static final ThreadLocal<int[]> ADJACENT_PANEL = ThreadLocal.withInitial(() -> new int[0]);

    /**
     * The panel re-laid with each quad's four rows side by side: the pair of row {@code 4q + k}, block {@code b}, step
     * {@code s} at {@code 4q·half + 64b + 4s + k} (from {@link PairTiles#rowStart}'s layout, where it is at {@code
     * 4q·half + 16k + 64·(16·(b/16) + s) + b%16}), so that a step's four broadcasts read one 16-byte run.
     */
    private static int[] adjacent(int[] src, int height, int half) {
        int[] dst = ADJACENT_PANEL.get();
        if (dst.length < height * half) ADJACENT_PANEL.set(dst = new int[height * half]);
        int groups = half / 256;
        for (int q = 0; q < height; q += 4) {
            int base = q * half;
            for (int g = 0; g < groups; g++) {
                for (int s = 0; s < 16; s++) {
                    for (int k = 0; k < 4; k++) {
                        int from = base + 16 * k + 64 * (16 * g + s), to = base + 64 * 16 * g + 4 * s + k;
                        for (int j = 0; j < 16; j++) dst[to + 64 * j] = src[from + j];
                    }
                }
            }
        }
        return dst;
    }

    /**
     * The quad of panel rows at {@code w0} times the two token vectors of a full slab over blocks {@code [blk0, blk0 +
     * nb)}: per block, the eight int sums converted, times the weight's and the token's scales, added to
     * {@code acc[a0 + k·SPAN + 8v]} (row {@code k}, vector {@code v}).
     */
    static void tile4x2(int[] w, int w0, float[] ps, int p0, int pStride, int[] xt, int xBase, float[] xst,
                        int sBase, int blk0, int nb, float[] acc, int a0) {
        int a1 = a0 + SPAN, a2 = a1 + SPAN, a3 = a2 + SPAN;
        for (int b = blk0; b < blk0 + nb; b++) {
            IntVector c00 = IntVector.zero(I8), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            int wb = ADJACENT ? w0 + 64 * b : w0 + 16 * QUAD_STRIDE * (b >> 4) + (b & 15), xb = xBase + 16 * SPAN * b;
            for (int s = 0; s < 16; s++) {
                int xi = xb + SPAN * s, wi = wb + (ADJACENT ? 4 : QUAD_STRIDE) * s;
                IntVector v0 = IntVector.fromArray(I8, xt, xi), v1 = IntVector.fromArray(I8, xt, xi + 8);
                IntVector q = IntVector.broadcast(I8, w[wi]);
                c00 = c00.add(q.mul(v0)); c01 = c01.add(q.mul(v1));
                q = IntVector.broadcast(I8, w[wi + R1]);
                c10 = c10.add(q.mul(v0)); c11 = c11.add(q.mul(v1));
                q = IntVector.broadcast(I8, w[wi + R2]);
                c20 = c20.add(q.mul(v0)); c21 = c21.add(q.mul(v1));
                q = IntVector.broadcast(I8, w[wi + R3]);
                c30 = c30.add(q.mul(v0)); c31 = c31.add(q.mul(v1));
            }
            int sb = sBase + SPAN * b;
            FloatVector t0 = FloatVector.fromArray(F8, xst, sb), t1 = FloatVector.fromArray(F8, xst, sb + 8);
            float r = ps[p0 + b];
            ((FloatVector) c00.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), FloatVector.fromArray(F8, acc, a0)).intoArray(acc, a0);
            ((FloatVector) c01.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), FloatVector.fromArray(F8, acc, a0 + 8)).intoArray(acc, a0 + 8);
            r = ps[p0 + pStride + b];
            ((FloatVector) c10.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), FloatVector.fromArray(F8, acc, a1)).intoArray(acc, a1);
            ((FloatVector) c11.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), FloatVector.fromArray(F8, acc, a1 + 8)).intoArray(acc, a1 + 8);
            r = ps[p0 + 2 * pStride + b];
            ((FloatVector) c20.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), FloatVector.fromArray(F8, acc, a2)).intoArray(acc, a2);
            ((FloatVector) c21.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), FloatVector.fromArray(F8, acc, a2 + 8)).intoArray(acc, a2 + 8);
            r = ps[p0 + 3 * pStride + b];
            ((FloatVector) c30.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), FloatVector.fromArray(F8, acc, a3)).intoArray(acc, a3);
            ((FloatVector) c31.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), FloatVector.fromArray(F8, acc, a3 + 8)).intoArray(acc, a3 + 8);
        }
    }

    /** As {@link #tile4x2} for a last slab of one token vector (its steps {@code 8} ints apart). */
    static void tile4x1(int[] w, int w0, float[] ps, int p0, int pStride, int[] xt, int xBase, float[] xst,
                        int sBase, int blk0, int nb, float[] acc, int a0) {
        int a1 = a0 + SPAN, a2 = a1 + SPAN, a3 = a2 + SPAN;
        for (int b = blk0; b < blk0 + nb; b++) {
            IntVector c0 = IntVector.zero(I8), c1 = c0, c2 = c0, c3 = c0;
            int wb = ADJACENT ? w0 + 64 * b : w0 + 16 * QUAD_STRIDE * (b >> 4) + (b & 15), xb = xBase + 16 * 8 * b;
            for (int s = 0; s < 16; s++) {
                int wi = wb + (ADJACENT ? 4 : QUAD_STRIDE) * s;
                IntVector v = IntVector.fromArray(I8, xt, xb + 8 * s);
                c0 = c0.add(IntVector.broadcast(I8, w[wi]).mul(v));
                c1 = c1.add(IntVector.broadcast(I8, w[wi + R1]).mul(v));
                c2 = c2.add(IntVector.broadcast(I8, w[wi + R2]).mul(v));
                c3 = c3.add(IntVector.broadcast(I8, w[wi + R3]).mul(v));
            }
            FloatVector t = FloatVector.fromArray(F8, xst, sBase + 8 * b);
            ((FloatVector) c0.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + b]), FloatVector.fromArray(F8, acc, a0)).intoArray(acc, a0);
            ((FloatVector) c1.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + pStride + b]), FloatVector.fromArray(F8, acc, a1)).intoArray(acc, a1);
            ((FloatVector) c2.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + 2 * pStride + b]), FloatVector.fromArray(F8, acc, a2)).intoArray(acc, a2);
            ((FloatVector) c3.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + 3 * pStride + b]), FloatVector.fromArray(F8, acc, a3)).intoArray(acc, a3);
        }
    }
}
