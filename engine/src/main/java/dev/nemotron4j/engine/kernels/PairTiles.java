package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.I;

/**
 * The integer prefill micro-kernels for {@link Repacked} Q4_0 matrices: a panel of weight rows widened once into
 * signed value pairs ({@link Repacked#toPairs}) times int8 activations ({@link Int8Activations}, repacked layout),
 * two multiply-adds per 32-bit multiply (the identity in {@link PackedIntDot}), with tokens in the vector lanes.
 *
 * <p>A block's 32 values are 16 pairs ("steps"). One weight pair, broadcast to every lane, times a vector of 16
 * tokens' activation pairs for the same step gives, in each lane, 2¹⁶ × that token's two products plus a cross term;
 * summed over the block's 16 steps in an int lane, |Σ cross terms| ≤ 16·8·127 and the pair sums ≤ 16·2·8·127 (so 2¹⁶
 * × that stays below 2³¹). Converted to float, times the weight's block scale over 2¹⁶ and the token's block scale
 * (one vector of 16 tokens' scales), it is added to a float accumulator: one conversion and one FMA per block and
 * lane, as in {@link BroadcastTiles}.
 *
 * <p>The activations are first rounded to int8 and transposed ({@link #quantize}) into slabs of up to {@link #SPAN}
 * tokens: per block and step, the slab's tokens side by side, padded to whole vectors. A tile of four weight rows × up to
 * three token vectors keeps 12 int and 12 float accumulators and the token vectors in registers; the weights come as
 * four broadcasts per step, from one base: a panel holds its rows in quads, the four rows' vectors of pairs
 * interleaved ({@link #rowStart}), so that C2 needs one address register for them
 * instead of four (with four it ran out and kept the array's address in a vector register, a round trip per step;
 * 4–6 % faster, bench/NOTES.md step 40). Blocks go in chunks of {@link #CHUNK_BLOCKS} so that a chunk of transposed activations
 * (24 KB) stays in L1 while every row of the panel passes over it; the float accumulators pass between chunks through
 * a small per-thread scratch. A panel's rows are taken in whole four-row tiles: the rows past its last (whatever the
 * scratch panel holds there) give sums that {@link #panel} drops, as it drops those of the padding tokens.
 *
 * <p>On the Zen 5 of bench/NOTES.md step 35, one core: 136 GMAC/s against 76–83 for the tiles this replaced (four
 * weight vectors × three tokens, blocks in the lanes), whose weight vectors streamed from L2. The tiles are written
 * out row by row on purpose: C2 keeps accumulators in registers only as separate locals (no arrays, no
 * vector-returning helpers; step 5).
 */
final class PairTiles {
    /** Token vectors per full tile. */
    static final int VECTORS = 3;
    /** Tokens per slab of transposed activations: the tokens of one full tile. */
    static final int SPAN = VECTORS * 16;
    /** Blocks per chunk: 8 blocks × 16 steps × 48 tokens × 4 bytes = 24 KB of activations. */
    static final int CHUNK_BLOCKS = 8;

    private PairTiles() {
    }

    /** Ints between a panel row's consecutive vectors of 16 pairs: the four rows of a quad interleaved. */
    static final int QUAD_STRIDE = 64;

    /**
     * Where row {@code k} of a panel of rows of {@code half} pairs starts: its quad's four rows hold their vectors of 16
     * pairs interleaved ({@link Repacked#toPairs} with a vector stride of {@link #QUAD_STRIDE}), the layout the tiles
     * read.
     */
    static int rowStart(int k, int half) {
        return (k & ~3) * half + 16 * (k & 3);
    }

    /** {@code tokens} rounded up to whole vectors of 16: the tokens {@link #quantize} lays out. */
    static int padded(int tokens) {
        return (tokens + 15) / 16 * 16;
    }

    /**
     * The activations of {@code tokens} rows of {@code cols} values ({@code x}, row {@code t} at {@code t·cols})
     * rounded to int8 per 32-value block, as {@link Int8Activations} does for decode ({@code q = round(x·127/amax)},
     * scale {@code amax/127}), and laid out for the tiles with tokens in the lanes: slab {@code k} holds tokens
     * {@code [t0, t0 + sw)} ({@code t0 = SPAN·k}, {@code sw} = {@link #SPAN} or, in the last slab, the tokens left
     * rounded up to 16); step {@code s} of block {@code b} is the pair {@link Int8Activations#q4Pairs} rounds for decode
     * (the pairs {@link Repacked#toPairs} gives the weights in), at
     * {@code xt[t0·cols/2 + (16b + s)·sw + j]} for token {@code t0 + j}, the block's scale at {@code xst[t0·cols/32 +
     * b·sw + j]}. Lanes past {@code tokens} repeat the last token (lanes never mix, and {@link #panel} drops their
     * sums). Per block and 16 tokens: two 16 × 16 transposes in registers ({@link BroadcastTiles#block16}), then the
     * maxima, scales and pairs as whole vectors (a gather per vector instead, each range-checked lane by lane, took as
     * long as a tenth of the tiles). Split over the pool by vectors of 16 tokens, each part reading its 16 rows front
     * to back (split by blocks, every part read all the rows 4 KB apart and two threads were no faster than one).
     */
    static void quantize(float[] x, int tokens, int cols, int[] xt, float[] xst, WorkerPool pool) {
        int half = cols / 2, blocks = cols / 32, padded = padded(tokens);
        pool.forRange(padded / 16, (long) 64 * 16 * blocks, (chunk, v0, v1) -> {
            float[] block = BLOCK.get(), rows = PARTIAL.get(), inv = INVERSES.get();
            for (int v = v0; v < v1; v++) {
                int first = 16 * v, t0 = first / SPAN * SPAN, u = first - t0, sw = Math.min(SPAN, padded - t0);
                int live = Math.min(16, tokens - first);
                for (int b = 0; b < blocks; b++) {
                    // 16 tokens × 32 values transposed in registers into the scratch, value k's lanes at 16k; a
                    // last, partial vector first copied into 16 rows of 32 (its last token repeated)
                    if (live == 16) {
                        BroadcastTiles.block16(x, first * cols, cols, block, 32 * b, -512 * b, 16, null, 0);
                        BroadcastTiles.block16(x, first * cols, cols, block, 32 * b + 16, -512 * b, 16, null, 0);
                    } else {
                        for (int j = 0; j < 16; j++) System.arraycopy(x, (first + Math.min(j, live - 1)) * cols + 32 * b, rows, 32 * j, 32);
                        BroadcastTiles.block16(rows, 0, 32, block, 0, 0, 16, null, 0);
                        BroadcastTiles.block16(rows, 0, 32, block, 16, 0, 16, null, 0);
                    }
                    quantizeBlock(block, 0, 16, xt, t0 * half + 16 * b * sw + u, sw, xst, t0 * blocks + b * sw + u, inv);
                }
            }
        });
    }

    /** Per thread: one block of 16 tokens transposed (value {@code k} of token {@code j} at {@code 16k + j}). */
    private static final ThreadLocal<float[]> BLOCK = ThreadLocal.withInitial(() -> new float[512]);
    /** Per thread: a block's 16 lanes of 127/amax, handed to {@link Int8Activations#q4Pairs} in memory (step 62). */
    private static final ThreadLocal<float[]> INVERSES = ThreadLocal.withInitial(() -> new float[16]);
    /** Per thread: the rows of a last, partial vector of tokens, 16 rows of one block's 32 values. */
    private static final ThreadLocal<float[]> PARTIAL = ThreadLocal.withInitial(() -> new float[512]);

    /**
     * One block of 16 tokens, transposed ({@code t[a + tStride·k + j]} is value {@code k} of lane {@code j}; a stride
     * of 16 for {@link #quantize}'s scratch, {@link #SPAN} for a slab's sums in {@link #activateBlock}): its scales to
     * {@code xst[s0 ‥ s0+16)}, its 16 pair steps to {@code xt[d0 + s·sw ‥ +16)}; {@code inv} is 16 floats of scratch.
     */
    private static void quantizeBlock(float[] t, int a, int tStride, int[] xt, int d0, int sw, float[] xst, int s0,
                                      float[] inv) {
        // the maximum of |x| on the bits (Int8Activations.ABS_BITS): FloatVector.max keeps Java's NaN and −0
        // ordering, a compare-and-blend sequence per step of a 32-step chain that took as long as the rest together
        IntVector bits = IntVector.zero(I);
        for (int k = 0; k < 32; k++) bits = bits.max(FloatVector.fromArray(F, t, a + tStride * k).reinterpretAsInts().and(Int8Activations.ABS_BITS));
        FloatVector amax = bits.reinterpretAsFloats();
        amax.div(127f).intoArray(xst, s0);
        // ∞ for a block of zeros (see q4Pairs); stored, not passed as a vector, which C2 boxed where it did not
        // inline q4Pairs here (this method is called from large ones and is not inlined into them either)
        FloatVector.broadcast(F, 127f).div(amax).intoArray(inv, 0);
        Int8Activations.q4Pairs(t, a, tStride, inv, 0, xt, d0, sw);
    }

    /**
     * Rows {@code [0, height)} of a pair panel ({@code height} a multiple of 4; vector {@code m} of row {@code r}'s
     * pairs at {@code rowStart(r, cols/2) + 64m}, its block scales over 2¹⁶ at {@code ps[r·cols/32]}) times the
     * {@link #quantize}d activations of every token; the products of panel rows {@code [0, live)} and tokens
     * {@code [0, tokens)} are stored to {@code out[t·rows + r0 + r]} (each written once: no pass to zero {@code out}
     * first). {@code acc} is scratch of at least {@code height·SPAN} floats.
     */
    static void panel(int[] panel, float[] ps, int height, int live, int[] xt, float[] xst, int tokens, int cols,
                      float[] acc, float[] out, int r0, int rows) {
        int padded = padded(tokens);
        for (int t0 = 0; t0 < padded; t0 += SPAN) {
            int sw = Math.min(SPAN, padded - t0);
            slab(panel, ps, height, xt, xst, cols, t0, sw, acc);
            storeSums(acc, t0, Math.min(tokens, t0 + sw) - t0, live, out, r0, rows);
        }
    }

    /**
     * As {@link #panel}, for the up projection of a squared-ReLU MLP whose down projection runs next: rather than
     * stored, each slab's sums are activated ({@code max(v, 0)²}, as {@link Activations#squaredRelu}) and rounded to
     * int8 pairs, straight into the layout {@link #quantize} would give the down projection's input of {@code cols2}
     * columns ({@code xt2}, {@code xst2}); the panel's rows are that input's columns from {@code 32·b0} on, and
     * {@code height} is a multiple of 32. The same values as storing, activating and {@link #quantize}-ing, without
     * the two transposes and the float round trip through memory in between (bench/NOTES.md, step 47).
     */
    static void panelActivated(int[] panel, float[] ps, int height, int[] xt, float[] xst, int tokens, int cols,
                               float[] acc, int[] xt2, float[] xst2, int b0, int cols2) {
        int padded = padded(tokens), half2 = cols2 / 2, blocks2 = cols2 / 32;
        float[] inv = INVERSES.get();
        for (int t0 = 0; t0 < padded; t0 += SPAN) {
            int sw = Math.min(SPAN, padded - t0);
            slab(panel, ps, height, xt, xst, cols, t0, sw, acc);
            for (int blk = 0; blk < height / 32; blk++) {
                int b = b0 + blk;
                for (int u = 0; u < sw; u += 16) {
                    activateBlock(acc, 32 * blk * SPAN + u, xt2, t0 * half2 + 16 * b * sw + u, sw, xst2, t0 * blocks2 + b * sw + u, inv);
                }
            }
        }
    }

    /** The tiles of one slab of {@code sw} tokens from {@code t0}: every row of the panel, sums to {@code acc}. */
    private static void slab(int[] panel, float[] ps, int height, int[] xt, float[] xst, int cols, int t0, int sw,
                             float[] acc) {
        int half = cols / 2, blocks = cols / 32, xBase = t0 * half, sBase = t0 * blocks;
        for (int c = 0; c < blocks; c += CHUNK_BLOCKS) {
            int nb = Math.min(CHUNK_BLOCKS, blocks - c);
            boolean first = c == 0;
            for (int r = 0; r < height; r += 4) {
                int w0 = r * half, p0 = r * blocks, a0 = r * SPAN;
                switch (sw) {
                    case 48 -> tile4x3(panel, w0, ps, p0, blocks, xt, xBase, xst, sBase, c, nb, acc, a0, first);
                    case 32 -> tile4x2(panel, w0, ps, p0, blocks, xt, xBase, xst, sBase, c, nb, acc, a0, first);
                    default -> tile4x1(panel, w0, ps, p0, blocks, xt, xBase, xst, sBase, c, nb, acc, a0, first);
                }
            }
        }
    }

    /**
     * One block of 32 panel rows × 16 tokens of a slab's sums ({@code acc[a + k·SPAN + j]}: row {@code k}, token
     * {@code j}), already laid out as {@link #quantizeBlock} takes its input: squared in place ({@code max(v, 0)²}),
     * then rounded, its scales to {@code xst2[s0 ‥ +16)} and pairs to {@code xt2[d0 + s·sw ‥ +16)}.
     */
    private static void activateBlock(float[] acc, int a, int[] xt2, int d0, int sw, float[] xst2, int s0, float[] inv) {
        FloatVector zero = FloatVector.zero(F);
        for (int k = 0; k < 32; k++) {
            FloatVector v = FloatVector.fromArray(F, acc, a + k * SPAN).max(zero);
            v.mul(v).intoArray(acc, a + k * SPAN);
        }
        quantizeBlock(acc, a, SPAN, xt2, d0, sw, xst2, s0, inv);
    }

    /**
     * {@code out[(t0 + a)·rows + r0 + r] = acc[r·SPAN + a]} for {@code a < count}, {@code r < live}: blocks of 16 rows ×
     * 16 tokens transposed in registers ({@link BroadcastTiles#block16}) and stored a vector at a time, the rest one by
     * one (rows inner: consecutive in out).
     */
    private static void storeSums(float[] acc, int t0, int count, int live, float[] out, int r0, int rows) {
        float[] block = BLOCK.get();
        int rFull = live & ~15, aFull = count & ~15;
        for (int a0 = 0; a0 < aFull; a0 += 16) {
            for (int rb = 0; rb < rFull; rb += 16) {
                BroadcastTiles.block16(acc, rb * SPAN, SPAN, block, a0, -16 * a0, 16, null, 0);   // block[16k + j]: token a0+k, row rb+j
                for (int k = 0; k < 16; k++) {
                    int o = (t0 + a0 + k) * rows + r0 + rb;
                    FloatVector.fromArray(F, block, 16 * k).intoArray(out, o);
                }
            }
            for (int a = a0; a < a0 + 16; a++) {
                int o = (t0 + a) * rows + r0;
                for (int r = rFull; r < live; r++) out[o + r] = acc[r * SPAN + a];
            }
        }
        for (int a = aFull; a < count; a++) {
            int o = (t0 + a) * rows + r0;
            for (int r = 0; r < live; r++) out[o + r] = acc[r * SPAN + a];
        }
    }

    /**
     * The quad of panel rows at {@code w0} (row {@code k}'s vector {@code m} at {@code w0 + 64m + 16k}, its scales at
     * {@code p0 + k·pStride}) times the three token vectors of a
     * full slab (at {@code xBase}, scales at {@code sBase}) over blocks {@code [blk0, blk0 + nb)}; the 12 sums go to /
     * come from {@code acc[a0 + k·SPAN + 16v]}.
     */
    static void tile4x3(int[] w, int w0, float[] ps, int p0, int pStride, int[] xt, int xBase, float[] xst,
                        int sBase, int blk0, int nb, float[] acc, int a0, boolean first) {
        int a1 = a0 + SPAN, a2 = a1 + SPAN, a3 = a2 + SPAN;
        FloatVector f00, f01, f02, f10, f11, f12, f20, f21, f22, f30, f31, f32;
        if (first) {
            f00 = f01 = f02 = f10 = f11 = f12 = f20 = f21 = f22 = f30 = f31 = f32 = FloatVector.zero(F);
        } else {
            f00 = FloatVector.fromArray(F, acc, a0); f01 = FloatVector.fromArray(F, acc, a0 + 16);
            f02 = FloatVector.fromArray(F, acc, a0 + 32);
            f10 = FloatVector.fromArray(F, acc, a1); f11 = FloatVector.fromArray(F, acc, a1 + 16);
            f12 = FloatVector.fromArray(F, acc, a1 + 32);
            f20 = FloatVector.fromArray(F, acc, a2); f21 = FloatVector.fromArray(F, acc, a2 + 16);
            f22 = FloatVector.fromArray(F, acc, a2 + 32);
            f30 = FloatVector.fromArray(F, acc, a3); f31 = FloatVector.fromArray(F, acc, a3 + 16);
            f32 = FloatVector.fromArray(F, acc, a3 + 32);
        }
        for (int b = blk0; b < blk0 + nb; b++) {
            IntVector c00 = IntVector.zero(I), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
            IntVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
            int wb = w0 + 16 * QUAD_STRIDE * (b >> 4) + (b & 15), xb = xBase + 16 * SPAN * b;
            for (int s = 0; s < 16; s++) {
                int xi = xb + SPAN * s, wi = wb + QUAD_STRIDE * s;
                IntVector v0 = IntVector.fromArray(I, xt, xi), v1 = IntVector.fromArray(I, xt, xi + 16);
                IntVector v2 = IntVector.fromArray(I, xt, xi + 32);
                IntVector q = IntVector.broadcast(I, w[wi]);
                c00 = c00.add(q.mul(v0)); c01 = c01.add(q.mul(v1)); c02 = c02.add(q.mul(v2));
                q = IntVector.broadcast(I, w[wi + 16]);
                c10 = c10.add(q.mul(v0)); c11 = c11.add(q.mul(v1)); c12 = c12.add(q.mul(v2));
                q = IntVector.broadcast(I, w[wi + 32]);
                c20 = c20.add(q.mul(v0)); c21 = c21.add(q.mul(v1)); c22 = c22.add(q.mul(v2));
                q = IntVector.broadcast(I, w[wi + 48]);
                c30 = c30.add(q.mul(v0)); c31 = c31.add(q.mul(v1)); c32 = c32.add(q.mul(v2));
            }
            int sb = sBase + SPAN * b;
            FloatVector t0 = FloatVector.fromArray(F, xst, sb), t1 = FloatVector.fromArray(F, xst, sb + 16);
            FloatVector t2 = FloatVector.fromArray(F, xst, sb + 32);
            float r = ps[p0 + b];
            f00 = ((FloatVector) c00.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f00);
            f01 = ((FloatVector) c01.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f01);
            f02 = ((FloatVector) c02.convert(VectorOperators.I2F, 0)).fma(t2.mul(r), f02);
            r = ps[p0 + pStride + b];
            f10 = ((FloatVector) c10.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f10);
            f11 = ((FloatVector) c11.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f11);
            f12 = ((FloatVector) c12.convert(VectorOperators.I2F, 0)).fma(t2.mul(r), f12);
            r = ps[p0 + 2 * pStride + b];
            f20 = ((FloatVector) c20.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f20);
            f21 = ((FloatVector) c21.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f21);
            f22 = ((FloatVector) c22.convert(VectorOperators.I2F, 0)).fma(t2.mul(r), f22);
            r = ps[p0 + 3 * pStride + b];
            f30 = ((FloatVector) c30.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f30);
            f31 = ((FloatVector) c31.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f31);
            f32 = ((FloatVector) c32.convert(VectorOperators.I2F, 0)).fma(t2.mul(r), f32);
        }
        f00.intoArray(acc, a0); f01.intoArray(acc, a0 + 16); f02.intoArray(acc, a0 + 32);
        f10.intoArray(acc, a1); f11.intoArray(acc, a1 + 16); f12.intoArray(acc, a1 + 32);
        f20.intoArray(acc, a2); f21.intoArray(acc, a2 + 16); f22.intoArray(acc, a2 + 32);
        f30.intoArray(acc, a3); f31.intoArray(acc, a3 + 16); f32.intoArray(acc, a3 + 32);
    }

    /** As {@link #tile4x3} for a slab of two token vectors (32 tokens: the last slab of some prompts). */
    static void tile4x2(int[] w, int w0, float[] ps, int p0, int pStride, int[] xt, int xBase, float[] xst,
                        int sBase, int blk0, int nb, float[] acc, int a0, boolean first) {
        int a1 = a0 + SPAN, a2 = a1 + SPAN, a3 = a2 + SPAN;
        FloatVector f00, f01, f10, f11, f20, f21, f30, f31;
        if (first) {
            f00 = f01 = f10 = f11 = f20 = f21 = f30 = f31 = FloatVector.zero(F);
        } else {
            f00 = FloatVector.fromArray(F, acc, a0); f01 = FloatVector.fromArray(F, acc, a0 + 16);
            f10 = FloatVector.fromArray(F, acc, a1); f11 = FloatVector.fromArray(F, acc, a1 + 16);
            f20 = FloatVector.fromArray(F, acc, a2); f21 = FloatVector.fromArray(F, acc, a2 + 16);
            f30 = FloatVector.fromArray(F, acc, a3); f31 = FloatVector.fromArray(F, acc, a3 + 16);
        }
        for (int b = blk0; b < blk0 + nb; b++) {
            IntVector c00 = IntVector.zero(I), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            int wb = w0 + 16 * QUAD_STRIDE * (b >> 4) + (b & 15), xb = xBase + 16 * 32 * b;
            for (int s = 0; s < 16; s++) {
                int xi = xb + 32 * s, wi = wb + QUAD_STRIDE * s;
                IntVector v0 = IntVector.fromArray(I, xt, xi), v1 = IntVector.fromArray(I, xt, xi + 16);
                IntVector q = IntVector.broadcast(I, w[wi]);
                c00 = c00.add(q.mul(v0)); c01 = c01.add(q.mul(v1));
                q = IntVector.broadcast(I, w[wi + 16]);
                c10 = c10.add(q.mul(v0)); c11 = c11.add(q.mul(v1));
                q = IntVector.broadcast(I, w[wi + 32]);
                c20 = c20.add(q.mul(v0)); c21 = c21.add(q.mul(v1));
                q = IntVector.broadcast(I, w[wi + 48]);
                c30 = c30.add(q.mul(v0)); c31 = c31.add(q.mul(v1));
            }
            int sb = sBase + 32 * b;
            FloatVector t0 = FloatVector.fromArray(F, xst, sb), t1 = FloatVector.fromArray(F, xst, sb + 16);
            float r = ps[p0 + b];
            f00 = ((FloatVector) c00.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f00);
            f01 = ((FloatVector) c01.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f01);
            r = ps[p0 + pStride + b];
            f10 = ((FloatVector) c10.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f10);
            f11 = ((FloatVector) c11.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f11);
            r = ps[p0 + 2 * pStride + b];
            f20 = ((FloatVector) c20.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f20);
            f21 = ((FloatVector) c21.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f21);
            r = ps[p0 + 3 * pStride + b];
            f30 = ((FloatVector) c30.convert(VectorOperators.I2F, 0)).fma(t0.mul(r), f30);
            f31 = ((FloatVector) c31.convert(VectorOperators.I2F, 0)).fma(t1.mul(r), f31);
        }
        f00.intoArray(acc, a0); f01.intoArray(acc, a0 + 16);
        f10.intoArray(acc, a1); f11.intoArray(acc, a1 + 16);
        f20.intoArray(acc, a2); f21.intoArray(acc, a2 + 16);
        f30.intoArray(acc, a3); f31.intoArray(acc, a3 + 16);
    }

    /** As {@link #tile4x3} for a slab of one token vector (16 tokens: the last slab of some prompts). */
    static void tile4x1(int[] w, int w0, float[] ps, int p0, int pStride, int[] xt, int xBase, float[] xst,
                        int sBase, int blk0, int nb, float[] acc, int a0, boolean first) {
        int a1 = a0 + SPAN, a2 = a1 + SPAN, a3 = a2 + SPAN;
        FloatVector f0, f1, f2, f3;
        if (first) {
            f0 = f1 = f2 = f3 = FloatVector.zero(F);
        } else {
            f0 = FloatVector.fromArray(F, acc, a0); f1 = FloatVector.fromArray(F, acc, a1);
            f2 = FloatVector.fromArray(F, acc, a2); f3 = FloatVector.fromArray(F, acc, a3);
        }
        for (int b = blk0; b < blk0 + nb; b++) {
            IntVector c0 = IntVector.zero(I), c1 = c0, c2 = c0, c3 = c0;
            int wb = w0 + 16 * QUAD_STRIDE * (b >> 4) + (b & 15), xb = xBase + 16 * 16 * b;
            for (int s = 0; s < 16; s++) {
                int wi = wb + QUAD_STRIDE * s;
                IntVector v = IntVector.fromArray(I, xt, xb + 16 * s);
                c0 = c0.add(IntVector.broadcast(I, w[wi]).mul(v));
                c1 = c1.add(IntVector.broadcast(I, w[wi + 16]).mul(v));
                c2 = c2.add(IntVector.broadcast(I, w[wi + 32]).mul(v));
                c3 = c3.add(IntVector.broadcast(I, w[wi + 48]).mul(v));
            }
            FloatVector t = FloatVector.fromArray(F, xst, sBase + 16 * b);
            f0 = ((FloatVector) c0.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + b]), f0);
            f1 = ((FloatVector) c1.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + pStride + b]), f1);
            f2 = ((FloatVector) c2.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + 2 * pStride + b]), f2);
            f3 = ((FloatVector) c3.convert(VectorOperators.I2F, 0)).fma(t.mul(ps[p0 + 3 * pStride + b]), f3);
        }
        f0.intoArray(acc, a0); f1.intoArray(acc, a1); f2.intoArray(acc, a2); f3.intoArray(acc, a3);
    }
}
