package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;

/**
 * Prefill tiles with tokens in the vector lanes: one weight broadcast to every lane times a vector of
 * {@link VectorDot#LANES} tokens' activations, so a tile of {@link #ROWS} weight rows × four token vectors keeps 16
 * accumulators, and each column step loads four activation vectors and four weights for 16 FMAs. Nothing is
 * reduced across lanes: an accumulator lane is one output. (Single core, a 64-row panel, 128 tokens: 46–52 GMAC/s
 * against 36–43 for the row-major 4×4 tile of {@link TiledMatMul}, which reduces 16 vectors per tile; F32 peak 58.6;
 * bench/NOTES.md, step 20. Six rows were 5 % faster in a probe but no faster in JMH; NOTES, after step 24.)
 *
 * <p>The activations are first transposed into slabs of {@link #SPAN} tokens ({@link #transpose}); the panel of
 * widened weight rows stays row-major, as {@link MatMul} widens it. Columns go in chunks of {@link #KC} so the
 * chunk of transposed activations (≤ 128 KB) and of the panel stay in L2 while every row tile reads them; the
 * accumulators of a tile pass between chunks through a small per-thread scratch.
 */
final class BroadcastTiles {
    /** Weight rows per tile (four broadcasts per column step). */
    static final int ROWS = 4;
    /**
     * Token vectors per tile: four (64 tokens) with 16 lanes and 32 registers (AVX-512); three (24 tokens) with 8 lanes,
     * where AVX2 has 16 registers and a 4 × 4 tile's 21 live vectors spilled ({@link #tile4x3}).
     */
    static final int VECTORS = LANES == 16 || Boolean.getBoolean("n4j.tile4x4") ? 4 : 3;
    /** Tokens per slab: the activations of one column step of a full tile. */
    static final int SPAN = VECTORS * LANES;
    /** Columns per chunk: 512 columns × 64 tokens × 4 bytes = 128 KB of activations. */
    static final int KC = 512;

    private BroadcastTiles() {
    }

    /** Tokens this path takes out of {@code tokens}: whole vectors (the rest goes through the row-major tiles). */
    static int width(int tokens) {
        return tokens / LANES * LANES;
    }

    /**
     * Tokens {@code [0, width)} of {@code x} (rows of {@code cols}) transposed into slabs of {@link #SPAN} tokens
     * (fewer in the last): slab {@code s} starts at {@code SPAN·s·cols} and holds, per column position {@code k}, its
     * tokens' values side by side, so a tile reads its activations as one forward stream. With {@code positions}
     * (length a power of two), column {@code c} goes to position {@code c - c % m + positions[c % m]}: the order a
     * {@link Repacked} matrix widens its rows in ({@link Repacked#positions}). Split over the pool in blocks of 16
     * columns; with 16 float lanes each block of 16 tokens × 16 columns is transposed in registers ({@link #block16}:
     * 2.3–3× faster than element by element, bench/NOTES.md step 32), otherwise, and for the columns after the last
     * whole block, element by element.
     */
    static void transpose(float[] x, int cols, int width, int[] positions, float[] xt, WorkerPool pool) {
        int span = SPAN, mask = positions == null ? 0 : positions.length - 1;
        if (positions != null && (positions.length & mask) != 0) throw new IllegalArgumentException("positions length " + positions.length);
        int blocks = (cols + 15) / 16;
        pool.forRange(blocks, 16L * width, (chunk, b0, b1) -> {
            int k0 = 16 * b0, k1 = Math.min(cols, 16 * b1);
            for (int t0 = 0; t0 < width; t0 += span) {
                int sw = Math.min(span, width - t0), base = t0 * cols;
                for (int v = 0; v < sw; v += LANES) {
                    int row = (t0 + v) * cols, k = k0;
                    if (LANES == 16) {
                        for (; k + 16 <= k1; k += 16) block16(x, row, cols, xt, k, base + v, sw, positions, mask);
                    }
                    // the rest one column at a time, across the vector's tokens (a column down the tokens reads
                    // lines cols·4 bytes apart, which for cols = 1024 all fall into one L1 set: few columns here)
                    for (; k < k1; k++) {
                        int d = base + position(k, positions, mask) * sw + v;
                        for (int t = 0; t < LANES; t++) xt[d + t] = x[row + t * cols + k];
                    }
                }
            }
        });
    }

    /** Where column {@code k} goes in {@link #transpose}'s order. */
    private static int position(int k, int[] positions, int mask) {
        return positions == null ? k : k - (k & mask) + positions[k & mask];
    }

    /**
     * {@link #block16}'s select indices for swapping index bit {@code b} between rows {@code i} and {@code i + b}:
     * row i ({@code hi} false) keeps its lanes with bit b clear and takes row i+b's lanes shifted up by b; row i+b
     * takes row i's lanes shifted down by b and keeps its own with bit b set.
     */
    private static FloatVector swapBit(int b, boolean hi) {
        float[] index = new float[LANES];
        for (int l = 0; l < LANES; l++) index[l] = (l & b) == 0 ? (hi ? l + b : l) : (hi ? LANES + l : LANES + l - b);
        return FloatVector.fromArray(F, index, 0);
    }

    private static final FloatVector LO8 = swapBit(8, false), HI8 = swapBit(8, true), LO4 = swapBit(4, false),
            HI4 = swapBit(4, true), LO2 = swapBit(2, false), HI2 = swapBit(2, true), LO1 = swapBit(1, false),
            HI1 = swapBit(1, true);

    /**
     * Columns {@code kb‥kb+15} of the 16 tokens whose rows start at {@code x[row]}, {@code row + cols}, …: loaded as
     * 16 vectors (one per token), transposed in registers by swapping the row and lane index bits 8, 4, 2, 1 in turn
     * (each a two-vector select), and stored as one vector per column at {@code xt[dst + sw·position(column)]}. Needs
     * 16 float lanes ({@link PairTiles#quantize} uses it too).
     */
    static void block16(float[] x, int row, int cols, float[] xt, int kb, int dst, int sw, int[] pos, int mask) {
        FloatVector r0 = FloatVector.fromArray(F, x, row + kb), r1 = FloatVector.fromArray(F, x, row + 1 * cols + kb);
        FloatVector r2 = FloatVector.fromArray(F, x, row + 2 * cols + kb), r3 = FloatVector.fromArray(F, x, row + 3 * cols + kb);
        FloatVector r4 = FloatVector.fromArray(F, x, row + 4 * cols + kb), r5 = FloatVector.fromArray(F, x, row + 5 * cols + kb);
        FloatVector r6 = FloatVector.fromArray(F, x, row + 6 * cols + kb), r7 = FloatVector.fromArray(F, x, row + 7 * cols + kb);
        FloatVector r8 = FloatVector.fromArray(F, x, row + 8 * cols + kb), r9 = FloatVector.fromArray(F, x, row + 9 * cols + kb);
        FloatVector r10 = FloatVector.fromArray(F, x, row + 10 * cols + kb), r11 = FloatVector.fromArray(F, x, row + 11 * cols + kb);
        FloatVector r12 = FloatVector.fromArray(F, x, row + 12 * cols + kb), r13 = FloatVector.fromArray(F, x, row + 13 * cols + kb);
        FloatVector r14 = FloatVector.fromArray(F, x, row + 14 * cols + kb), r15 = FloatVector.fromArray(F, x, row + 15 * cols + kb);
        FloatVector a0 = LO8.selectFrom(r0, r8), a8 = HI8.selectFrom(r0, r8);
        FloatVector a1 = LO8.selectFrom(r1, r9), a9 = HI8.selectFrom(r1, r9);
        FloatVector a2 = LO8.selectFrom(r2, r10), a10 = HI8.selectFrom(r2, r10);
        FloatVector a3 = LO8.selectFrom(r3, r11), a11 = HI8.selectFrom(r3, r11);
        FloatVector a4 = LO8.selectFrom(r4, r12), a12 = HI8.selectFrom(r4, r12);
        FloatVector a5 = LO8.selectFrom(r5, r13), a13 = HI8.selectFrom(r5, r13);
        FloatVector a6 = LO8.selectFrom(r6, r14), a14 = HI8.selectFrom(r6, r14);
        FloatVector a7 = LO8.selectFrom(r7, r15), a15 = HI8.selectFrom(r7, r15);
        FloatVector b0 = LO4.selectFrom(a0, a4), b4 = HI4.selectFrom(a0, a4);
        FloatVector b1 = LO4.selectFrom(a1, a5), b5 = HI4.selectFrom(a1, a5);
        FloatVector b2 = LO4.selectFrom(a2, a6), b6 = HI4.selectFrom(a2, a6);
        FloatVector b3 = LO4.selectFrom(a3, a7), b7 = HI4.selectFrom(a3, a7);
        FloatVector b8 = LO4.selectFrom(a8, a12), b12 = HI4.selectFrom(a8, a12);
        FloatVector b9 = LO4.selectFrom(a9, a13), b13 = HI4.selectFrom(a9, a13);
        FloatVector b10 = LO4.selectFrom(a10, a14), b14 = HI4.selectFrom(a10, a14);
        FloatVector b11 = LO4.selectFrom(a11, a15), b15 = HI4.selectFrom(a11, a15);
        FloatVector c0 = LO2.selectFrom(b0, b2), c2 = HI2.selectFrom(b0, b2);
        FloatVector c1 = LO2.selectFrom(b1, b3), c3 = HI2.selectFrom(b1, b3);
        FloatVector c4 = LO2.selectFrom(b4, b6), c6 = HI2.selectFrom(b4, b6);
        FloatVector c5 = LO2.selectFrom(b5, b7), c7 = HI2.selectFrom(b5, b7);
        FloatVector c8 = LO2.selectFrom(b8, b10), c10 = HI2.selectFrom(b8, b10);
        FloatVector c9 = LO2.selectFrom(b9, b11), c11 = HI2.selectFrom(b9, b11);
        FloatVector c12 = LO2.selectFrom(b12, b14), c14 = HI2.selectFrom(b12, b14);
        FloatVector c13 = LO2.selectFrom(b13, b15), c15 = HI2.selectFrom(b13, b15);
        FloatVector d0 = LO1.selectFrom(c0, c1), d1 = HI1.selectFrom(c0, c1);
        FloatVector d2 = LO1.selectFrom(c2, c3), d3 = HI1.selectFrom(c2, c3);
        FloatVector d4 = LO1.selectFrom(c4, c5), d5 = HI1.selectFrom(c4, c5);
        FloatVector d6 = LO1.selectFrom(c6, c7), d7 = HI1.selectFrom(c6, c7);
        FloatVector d8 = LO1.selectFrom(c8, c9), d9 = HI1.selectFrom(c8, c9);
        FloatVector d10 = LO1.selectFrom(c10, c11), d11 = HI1.selectFrom(c10, c11);
        FloatVector d12 = LO1.selectFrom(c12, c13), d13 = HI1.selectFrom(c12, c13);
        FloatVector d14 = LO1.selectFrom(c14, c15), d15 = HI1.selectFrom(c14, c15);
        d0.intoArray(xt, dst + sw * position(kb, pos, mask));
        d1.intoArray(xt, dst + sw * position(kb + 1, pos, mask));
        d2.intoArray(xt, dst + sw * position(kb + 2, pos, mask));
        d3.intoArray(xt, dst + sw * position(kb + 3, pos, mask));
        d4.intoArray(xt, dst + sw * position(kb + 4, pos, mask));
        d5.intoArray(xt, dst + sw * position(kb + 5, pos, mask));
        d6.intoArray(xt, dst + sw * position(kb + 6, pos, mask));
        d7.intoArray(xt, dst + sw * position(kb + 7, pos, mask));
        d8.intoArray(xt, dst + sw * position(kb + 8, pos, mask));
        d9.intoArray(xt, dst + sw * position(kb + 9, pos, mask));
        d10.intoArray(xt, dst + sw * position(kb + 10, pos, mask));
        d11.intoArray(xt, dst + sw * position(kb + 11, pos, mask));
        d12.intoArray(xt, dst + sw * position(kb + 12, pos, mask));
        d13.intoArray(xt, dst + sw * position(kb + 13, pos, mask));
        d14.intoArray(xt, dst + sw * position(kb + 14, pos, mask));
        d15.intoArray(xt, dst + sw * position(kb + 15, pos, mask));
    }

    /**
     * Rows {@code [p0, p1)} of a widened panel (row {@code r} at {@code (r-p0)·n}, columns {@code c0‥c0+n} of the
     * matrix) times tokens {@code [0, width)} of {@code xt} ({@link #transpose}d from rows of {@code cols}), added to
     * {@code out[t·rows + r]}. {@code acc} is scratch of at least {@code (p1-p0)·SPAN} floats.
     */
    static void panel(float[] panel, int p0, int p1, int n, float[] xt, int cols, int c0, int width, float[] acc, float[] out,
                      int rows) {
        int span = SPAN, height = p1 - p0;
        for (int t0 = 0; t0 < width; t0 += span) {
            int sw = Math.min(span, width - t0), vectors = sw / LANES;
            for (int k0 = 0; k0 < n; k0 += KC) {
                int kLen = Math.min(KC, n - k0);
                boolean first = k0 == 0;
                int x0 = t0 * cols + (c0 + k0) * sw;
                int r = 0;
                if (vectors == 1 && EIGHT_ROWS) {
                    for (; r + 2 * ROWS <= height; r += 2 * ROWS) tile8x1(panel, r * n + k0, n, xt, x0, sw, kLen, acc, r * span, first);
                }
                for (; r + ROWS <= height; r += ROWS) {
                    int w0 = r * n + k0, a0 = r * span;
                    if (vectors == 4) tile4x4(panel, w0, n, xt, x0, kLen, acc, a0, first);
                    else if (vectors == 3 && VECTORS == 3) tile4x3(panel, w0, n, xt, x0, kLen, acc, a0, first);
                    else for (int v = 0; v < vectors; v++) tile4x1(panel, w0, n, xt, x0 + v * LANES, sw, kLen, acc, a0 + v * LANES, first);
                }
                for (; r < height; r++) {
                    int w0 = r * n + k0, a0 = r * span;
                    for (int v = 0; v < vectors; v++) tile1x1(panel, w0, xt, x0 + v * LANES, sw, kLen, acc, a0 + v * LANES, first);
                }
            }
            // rows inner: consecutive in out (tokens inner would touch a new page of out per access)
            for (int t = 0; t < sw; t++) {
                int o = (t0 + t) * rows + p0;
                for (int r = 0; r < height; r++) out[o + r] += acc[r * span + t];
            }
        }
    }

    /**
     * Four weight rows (at {@code w0}, stride {@code n}) times four token vectors (at {@code x0}, stride {@link #SPAN}
     * per column) over {@code kLen} columns; the 16 sums go to / come from {@code acc[a0 + row·SPAN + LANES·v]}.
     */
    static void tile4x4(float[] w, int w0, int n, float[] xt, int x0, int kLen, float[] acc, int a0, boolean first) {
        int L = LANES, span = SPAN, a1 = a0 + span, a2 = a1 + span, a3 = a2 + span;
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23;
        FloatVector c30, c31, c32, c33;
        if (first) {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = FloatVector.zero(F);
            c30 = c31 = c32 = c33 = c00;
        } else {
            c00 = FloatVector.fromArray(F, acc, a0); c01 = FloatVector.fromArray(F, acc, a0 + L);
            c02 = FloatVector.fromArray(F, acc, a0 + 2 * L); c03 = FloatVector.fromArray(F, acc, a0 + 3 * L);
            c10 = FloatVector.fromArray(F, acc, a1); c11 = FloatVector.fromArray(F, acc, a1 + L);
            c12 = FloatVector.fromArray(F, acc, a1 + 2 * L); c13 = FloatVector.fromArray(F, acc, a1 + 3 * L);
            c20 = FloatVector.fromArray(F, acc, a2); c21 = FloatVector.fromArray(F, acc, a2 + L);
            c22 = FloatVector.fromArray(F, acc, a2 + 2 * L); c23 = FloatVector.fromArray(F, acc, a2 + 3 * L);
            c30 = FloatVector.fromArray(F, acc, a3); c31 = FloatVector.fromArray(F, acc, a3 + L);
            c32 = FloatVector.fromArray(F, acc, a3 + 2 * L); c33 = FloatVector.fromArray(F, acc, a3 + 3 * L);
        }
        int w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        for (int k = 0; k < kLen; k++) {
            int xi = x0 + k * SPAN; // a constant stride: C2 hoists the range checks out of the loop
            FloatVector x0v = FloatVector.fromArray(F, xt, xi), x1v = FloatVector.fromArray(F, xt, xi + L);
            FloatVector x2v = FloatVector.fromArray(F, xt, xi + 2 * L), x3v = FloatVector.fromArray(F, xt, xi + 3 * L);
            FloatVector b = FloatVector.broadcast(F, w[w0 + k]);
            c00 = x0v.fma(b, c00); c01 = x1v.fma(b, c01); c02 = x2v.fma(b, c02); c03 = x3v.fma(b, c03);
            b = FloatVector.broadcast(F, w[w1 + k]);
            c10 = x0v.fma(b, c10); c11 = x1v.fma(b, c11); c12 = x2v.fma(b, c12); c13 = x3v.fma(b, c13);
            b = FloatVector.broadcast(F, w[w2 + k]);
            c20 = x0v.fma(b, c20); c21 = x1v.fma(b, c21); c22 = x2v.fma(b, c22); c23 = x3v.fma(b, c23);
            b = FloatVector.broadcast(F, w[w3 + k]);
            c30 = x0v.fma(b, c30); c31 = x1v.fma(b, c31); c32 = x2v.fma(b, c32); c33 = x3v.fma(b, c33);
        }
        c00.intoArray(acc, a0); c01.intoArray(acc, a0 + L);
        c02.intoArray(acc, a0 + 2 * L); c03.intoArray(acc, a0 + 3 * L);
        c10.intoArray(acc, a1); c11.intoArray(acc, a1 + L);
        c12.intoArray(acc, a1 + 2 * L); c13.intoArray(acc, a1 + 3 * L);
        c20.intoArray(acc, a2); c21.intoArray(acc, a2 + L);
        c22.intoArray(acc, a2 + 2 * L); c23.intoArray(acc, a2 + 3 * L);
        c30.intoArray(acc, a3); c31.intoArray(acc, a3 + L);
        c32.intoArray(acc, a3 + 2 * L); c33.intoArray(acc, a3 + 3 * L);
    }

    /**
     * As {@link #tile4x4} for three token vectors, the full tile with 8 lanes: 12 accumulators, three activation
     * vectors and a broadcast are AVX2's 16 registers.
     *
     * <p>The weights are read as {@code w[(w0 + k) & mask]}, the mask covering the whole array, which changes no index:
     * with 256-bit vectors C2 compiled the plain {@code w[w0 + k]} (range checks hoisted out of the loop) into a loop
     * that ran at half the speed, 24 against 49 GMAC/s on one core (Zen 5 run with {@code -XX:UseAVX=2}; the
     * same loop with AVX-512 is not affected; bench/NOTES.md, step 64).
     */
    static void tile4x3(float[] w, int w0, int n, float[] xt, int x0, int kLen, float[] acc, int a0, boolean first) {
        int L = LANES, span = SPAN, a1 = a0 + span, a2 = a1 + span, a3 = a2 + span;
        FloatVector c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        if (first) {
            c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = FloatVector.zero(F);
        } else {
            c00 = FloatVector.fromArray(F, acc, a0); c01 = FloatVector.fromArray(F, acc, a0 + L);
            c02 = FloatVector.fromArray(F, acc, a0 + 2 * L);
            c10 = FloatVector.fromArray(F, acc, a1); c11 = FloatVector.fromArray(F, acc, a1 + L);
            c12 = FloatVector.fromArray(F, acc, a1 + 2 * L);
            c20 = FloatVector.fromArray(F, acc, a2); c21 = FloatVector.fromArray(F, acc, a2 + L);
            c22 = FloatVector.fromArray(F, acc, a2 + 2 * L);
            c30 = FloatVector.fromArray(F, acc, a3); c31 = FloatVector.fromArray(F, acc, a3 + L);
            c32 = FloatVector.fromArray(F, acc, a3 + 2 * L);
        }
        int w1 = w0 + n, w2 = w1 + n, w3 = w2 + n, mask = (Integer.highestOneBit(Math.max(1, w.length - 1)) << 1) - 1;
        for (int k = 0; k < kLen; k++) {
            int xi = x0 + k * SPAN;
            FloatVector x0v = FloatVector.fromArray(F, xt, xi), x1v = FloatVector.fromArray(F, xt, xi + L);
            FloatVector x2v = FloatVector.fromArray(F, xt, xi + 2 * L);
            FloatVector b = FloatVector.broadcast(F, w[(w0 + k) & mask]);
            c00 = x0v.fma(b, c00); c01 = x1v.fma(b, c01); c02 = x2v.fma(b, c02);
            b = FloatVector.broadcast(F, w[(w1 + k) & mask]);
            c10 = x0v.fma(b, c10); c11 = x1v.fma(b, c11); c12 = x2v.fma(b, c12);
            b = FloatVector.broadcast(F, w[(w2 + k) & mask]);
            c20 = x0v.fma(b, c20); c21 = x1v.fma(b, c21); c22 = x2v.fma(b, c22);
            b = FloatVector.broadcast(F, w[(w3 + k) & mask]);
            c30 = x0v.fma(b, c30); c31 = x1v.fma(b, c31); c32 = x2v.fma(b, c32);
        }
        c00.intoArray(acc, a0); c01.intoArray(acc, a0 + L); c02.intoArray(acc, a0 + 2 * L);
        c10.intoArray(acc, a1); c11.intoArray(acc, a1 + L); c12.intoArray(acc, a1 + 2 * L);
        c20.intoArray(acc, a2); c21.intoArray(acc, a2 + L); c22.intoArray(acc, a2 + 2 * L);
        c30.intoArray(acc, a3); c31.intoArray(acc, a3 + L); c32.intoArray(acc, a3 + 2 * L);
    }

    /**
     * As {@link #tile4x4} for one token vector (the last vectors of a slab narrower than 64 tokens): activations at
     * {@code x0}, {@code stride} apart per column.
     */
    static void tile4x1(float[] w, int w0, int n, float[] xt, int x0, int stride, int kLen, float[] acc, int a0,
                        boolean first) {
        int a1 = a0 + SPAN, a2 = a1 + SPAN, a3 = a2 + SPAN;
        FloatVector c0, c1, c2, c3;
        if (first) {
            c0 = c1 = c2 = c3 = FloatVector.zero(F);
        } else {
            c0 = FloatVector.fromArray(F, acc, a0); c1 = FloatVector.fromArray(F, acc, a1);
            c2 = FloatVector.fromArray(F, acc, a2);
            c3 = FloatVector.fromArray(F, acc, a3);
        }
        int w1 = w0 + n, w2 = w1 + n, w3 = w2 + n;
        for (int k = 0; k < kLen; k++) {
            FloatVector xv = FloatVector.fromArray(F, xt, x0 + k * stride);
            c0 = xv.fma(FloatVector.broadcast(F, w[w0 + k]), c0);
            c1 = xv.fma(FloatVector.broadcast(F, w[w1 + k]), c1);
            c2 = xv.fma(FloatVector.broadcast(F, w[w2 + k]), c2);
            c3 = xv.fma(FloatVector.broadcast(F, w[w3 + k]), c3);
        }
        c0.intoArray(acc, a0); c1.intoArray(acc, a1); c2.intoArray(acc, a2);
        c3.intoArray(acc, a3);
    }

    /** A/B switch for measurements: {@code -Dn4j.tile8x1=false} takes a slab of one vector four rows at a time. */
    private static final boolean EIGHT_ROWS = !"false".equals(System.getProperty("n4j.tile8x1"));

    /**
     * As {@link #tile4x1} for eight rows: a slab of one token vector (the last of a prompt that is not whole slabs,
     * such as 128 tokens with 8 lanes: five slabs of 24, then 8). Four rows give four accumulators, each waiting for
     * its previous FMA (four cycles), so {@link #tile4x1} runs at half the FMA units' rate; eight fill them.
     */
    static void tile8x1(float[] w, int w0, int n, float[] xt, int x0, int stride, int kLen, float[] acc, int a0,
                        boolean first) {
        int span = SPAN;
        FloatVector c0, c1, c2, c3, c4, c5, c6, c7;
        if (first) {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = FloatVector.zero(F);
        } else {
            c0 = FloatVector.fromArray(F, acc, a0); c1 = FloatVector.fromArray(F, acc, a0 + span);
            c2 = FloatVector.fromArray(F, acc, a0 + 2 * span); c3 = FloatVector.fromArray(F, acc, a0 + 3 * span);
            c4 = FloatVector.fromArray(F, acc, a0 + 4 * span); c5 = FloatVector.fromArray(F, acc, a0 + 5 * span);
            c6 = FloatVector.fromArray(F, acc, a0 + 6 * span); c7 = FloatVector.fromArray(F, acc, a0 + 7 * span);
        }
        int w1 = w0 + n, w2 = w1 + n, w3 = w2 + n, w4 = w3 + n, w5 = w4 + n, w6 = w5 + n, w7 = w6 + n;
        for (int k = 0; k < kLen; k++) {
            FloatVector xv = FloatVector.fromArray(F, xt, x0 + k * stride);
            c0 = xv.fma(FloatVector.broadcast(F, w[w0 + k]), c0);
            c1 = xv.fma(FloatVector.broadcast(F, w[w1 + k]), c1);
            c2 = xv.fma(FloatVector.broadcast(F, w[w2 + k]), c2);
            c3 = xv.fma(FloatVector.broadcast(F, w[w3 + k]), c3);
            c4 = xv.fma(FloatVector.broadcast(F, w[w4 + k]), c4);
            c5 = xv.fma(FloatVector.broadcast(F, w[w5 + k]), c5);
            c6 = xv.fma(FloatVector.broadcast(F, w[w6 + k]), c6);
            c7 = xv.fma(FloatVector.broadcast(F, w[w7 + k]), c7);
        }
        c0.intoArray(acc, a0); c1.intoArray(acc, a0 + span);
        c2.intoArray(acc, a0 + 2 * span); c3.intoArray(acc, a0 + 3 * span);
        c4.intoArray(acc, a0 + 4 * span); c5.intoArray(acc, a0 + 5 * span);
        c6.intoArray(acc, a0 + 6 * span); c7.intoArray(acc, a0 + 7 * span);
    }

    /** One weight row times one token vector (rows a panel leaves after its four-row tiles: only in matrices too small for parts of whole tiles). */
    static void tile1x1(float[] w, int w0, float[] xt, int x0, int stride, int kLen, float[] acc, int a0, boolean first) {
        // four accumulators over interleaved columns, so the FMA latency does not serialise the loop
        FloatVector c0 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, a0), c1 = FloatVector.zero(F), c2 = c1, c3 = c1;
        int k = 0;
        for (; k + 4 <= kLen; k += 4) {
            int xi = x0 + k * stride;
            c0 = FloatVector.fromArray(F, xt, xi).fma(FloatVector.broadcast(F, w[w0 + k]), c0);
            c1 = FloatVector.fromArray(F, xt, xi + stride).fma(FloatVector.broadcast(F, w[w0 + k + 1]), c1);
            c2 = FloatVector.fromArray(F, xt, xi + 2 * stride).fma(FloatVector.broadcast(F, w[w0 + k + 2]), c2);
            c3 = FloatVector.fromArray(F, xt, xi + 3 * stride).fma(FloatVector.broadcast(F, w[w0 + k + 3]), c3);
        }
        for (; k < kLen; k++) c0 = FloatVector.fromArray(F, xt, x0 + k * stride).fma(FloatVector.broadcast(F, w[w0 + k]), c0);
        c0.add(c1).add(c2.add(c3)).intoArray(acc, a0);
    }
}
