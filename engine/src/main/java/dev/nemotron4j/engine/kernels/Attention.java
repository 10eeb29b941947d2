package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;
import static dev.nemotron4j.engine.kernels.VectorDot.LE;

/**
 * Causal scaled dot-product attention of query heads against one KV head's cached positions.
 *
 * <p>Keys are cached in blocks of {@link #KEY_BLOCK} positions, dimension-major inside a block
 * ({@link #keyOffset}): one vector load gives one dimension of 16 positions, so a query's scores come out 16 at a
 * time from FMAs with its broadcast elements, with no reduction across lanes. Values stay position-major; each
 * output vector accumulates in a register over a block of positions. Up to four queries share each loaded key or
 * value vector (the query heads of one KV head, and several tokens in prefill).
 */
public final class Attention {
    /** Positions per key block of the cache (a multiple of every vector width). */
    public static final int KEY_BLOCK = 16;
    /** Positions whose values stay in L1 while every query of a tile uses them. */
    private static final int VALUE_BLOCK = 32;

    private Attention() {
    }

    /** Byte offset, from a KV head's base, of dimension {@code dim} of position {@code position}'s key. */
    public static long keyOffset(int position, int dim, int headDim) {
        return 4L * ((long) (position / KEY_BLOCK) * KEY_BLOCK * headDim + (long) dim * KEY_BLOCK + position % KEY_BLOCK);
    }

    /** Whether {@link #storeKeyBlock} works here: 16 float lanes and a head dimension of whole vectors. */
    public static boolean blockStores(int headDim) {
        return LANES == KEY_BLOCK && headDim % KEY_BLOCK == 0;
    }

    /**
     * The keys of the {@link #KEY_BLOCK} positions from {@code position0} (a multiple of it) into one KV head's history
     * ({@code keys} from {@code headBase}), position {@code position0 + k}'s read from {@code src[off + k·stride ‥ +
     * headDim)}. A whole block is contiguous in the cache ({@link #keyOffset}), so its keys are transposed in registers
     * into a per-thread scratch and copied in one go, instead of one scattered store per element (a cache line apart
     * each; bench/NOTES.md, step 39). Only where {@link #blockStores}.
     */
    public static void storeKeyBlock(MemorySegment keys, long headBase, int position0, float[] src, int off, int stride,
                                     int headDim) {
        float[] scratch = KEY_BLOCK_SCRATCH.get();
        if (scratch.length < KEY_BLOCK * headDim) KEY_BLOCK_SCRATCH.set(scratch = new float[KEY_BLOCK * headDim]);
        for (int d = 0; d < headDim; d += KEY_BLOCK) BroadcastTiles.block16(src, off, stride, scratch, d, 0, KEY_BLOCK, null, 0);
        MemorySegment.copy(scratch, 0, keys, ValueLayout.JAVA_FLOAT_UNALIGNED, headBase + keyOffset(position0, 0, headDim),
                KEY_BLOCK * headDim);
    }

    /** Per thread: one key block transposed ({@link #storeKeyBlock}), grown to the largest head dimension seen. */
    private static final ThreadLocal<float[]> KEY_BLOCK_SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /** Positions to allocate per KV head for {@code positions}: whole key blocks. */
    public static int slots(int positions) {
        return (positions + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK;
    }

    /** Scratch floats {@link #attendShared} needs for {@code queries} queries over {@code positions} positions. */
    public static int scratchSize(int queries, int positions) {
        return queries * slots(positions);
    }

    /**
     * Causal attention for a tile of queries that read the same KV head: {@code heads} consecutive query heads
     * ({@code headDim} apart) of {@code tokens} consecutive tokens ({@code qStride} apart in {@code q},
     * {@code outStride} in {@code out}), token {@code t} seeing positions {@code [0, start + t + 1)}. Every loaded
     * key or value vector serves up to four queries, and a block of cached rows is used by every query of the tile
     * before the next is read. Keys at {@code base} in blocks ({@link #keyOffset}), values as float rows of
     * {@code headDim} at byte {@code base + τ·headDim·4}. {@code scores}: at least
     * {@link #scratchSize}{@code (heads·tokens, start + tokens)}.
     */
    public static void attendShared(float[] q, int q0, int qStride, int heads, int tokens, int start,
                                    MemorySegment keys, MemorySegment values, long base, int headDim, float scale,
                                    float[] scores, float[] out, int o0, int outStride) {
        int n = heads * tokens, span = start + tokens, stride = slots(span);
        // two vectors of positions at a time for four queries: eight FMA chains in flight
        for (int p0 = 0; p0 < span; p0 += 2 * LANES) {
            boolean pair = p0 + 2 * LANES <= stride;
            long ka = base + keyOffset(p0, 0, headDim), kb = pair ? base + keyOffset(p0 + LANES, 0, headDim) : ka;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                if (p0 >= length(j + 3, heads, start)) continue; // the four need nothing from here on
                int qa = qOff(j, q0, qStride, heads, headDim), qb = qOff(j + 1, q0, qStride, heads, headDim);
                int qc = qOff(j + 2, q0, qStride, heads, headDim), qd = qOff(j + 3, q0, qStride, heads, headDim);
                if (pair && p0 + LANES < length(j + 3, heads, start)) {
                    scores4x2(q, qa, qb, qc, qd, keys, ka, kb, headDim, scale, scores, j * stride + p0, stride);
                } else {
                    scores4(q, qa, qb, qc, qd, keys, ka, headDim, scale, scores, j * stride + p0, stride);
                }
            }
            for (; j < n; j++) {
                int len = length(j, heads, start);
                if (p0 >= len) continue;
                int qa = qOff(j, q0, qStride, heads, headDim);
                scores1(q, qa, keys, ka, headDim, scale, scores, j * stride + p0);
                if (pair && p0 + LANES < len) scores1(q, qa, keys, kb, headDim, scale, scores, j * stride + p0 + LANES);
            }
        }
        for (int j = 0; j < n; j++) {
            int len = length(j, heads, start), s0 = j * stride;
            float inv = 1f / expInPlace(scores, s0, len, maxOf(scores, s0, len));
            for (int p = s0; p < s0 + len; p++) scores[p] *= inv;
            java.util.Arrays.fill(scores, s0 + len, s0 + stride, 0f); // later positions weigh nothing
        }
        long rowBytes = 4L * headDim;
        int vectorDims = headDim - headDim % LANES;
        // the queries left over from fours add every block onto an output zeroed here: a `first` branch in values1 was
        // only ever taken one way in the warm-up (its decode steps stay within one value block), so C2 compiled it
        // out and the first longer prompt deoptimized values1 into C1 code, where every vector operation allocates
        // (bench/NOTES.md, step 62)
        for (int j = n & ~3; j < n; j++) {
            int o = outOff(j, o0, outStride, heads, headDim);
            java.util.Arrays.fill(out, o, o + headDim, 0f);
        }
        for (int p0 = 0; p0 < span; p0 += VALUE_BLOCK) {
            boolean first = p0 == 0;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int p1 = Math.min(p0 + VALUE_BLOCK, length(j + 3, heads, start));
                if (p1 <= p0) continue;
                int oa = outOff(j, o0, outStride, heads, headDim), ob = outOff(j + 1, o0, outStride, heads, headDim);
                int oc = outOff(j + 2, o0, outStride, heads, headDim), od = outOff(j + 3, o0, outStride, heads, headDim);
                int c = 0;
                for (; c + 2 * LANES <= vectorDims; c += 2 * LANES) {
                    values4x2(values, base + 4L * c, rowBytes, p0, p1, scores, j * stride, stride, first, out, oa + c, ob + c, oc + c, od + c);
                }
                for (; c < vectorDims; c += LANES) {
                    values4(values, base + 4L * c, rowBytes, p0, p1, scores, j * stride, stride, first, out, oa + c, ob + c, oc + c, od + c);
                }
                for (int i = 0; i < 4; i++) {
                    valueTail(values, base, rowBytes, vectorDims, headDim, p0, p1, scores, (j + i) * stride, first,
                            out, outOff(j + i, o0, outStride, heads, headDim));
                }
            }
            for (; j < n; j++) {
                int p1 = Math.min(p0 + VALUE_BLOCK, length(j, heads, start));
                if (p1 <= p0) continue;
                int oa = outOff(j, o0, outStride, heads, headDim);
                for (int c = 0; c < vectorDims; c += LANES) {
                    values1(values, base + 4L * c, rowBytes, p0, p1, scores, j * stride, out, oa + c);
                }
                valueTail(values, base, rowBytes, vectorDims, headDim, p0, p1, scores, j * stride, false, out, oa);
            }
        }
    }

    /** Positions query {@code j} (token {@code j / heads}) sees. */
    private static int length(int j, int heads, int start) {
        return start + j / heads + 1;
    }

    private static int qOff(int j, int q0, int qStride, int heads, int headDim) {
        return q0 + j / heads * qStride + j % heads * headDim;
    }

    private static int outOff(int j, int o0, int outStride, int heads, int headDim) {
        return o0 + j / heads * outStride + j % heads * headDim;
    }

    /**
     * Scores of four queries against {@link VectorDot#LANES} positions of a key block (dimension {@code d} of
     * those positions at {@code k0 + d·KEY_BLOCK·4}), stored at {@code s0 + i·stride} for query {@code i}.
     */
    private static void scores4(float[] q, int qa, int qb, int qc, int qd, MemorySegment keys, long k0, int headDim,
                                float scale, float[] s, int s0, int stride) {
        FloatVector a = FloatVector.zero(F), b = a, c = a, d = a;
        for (int e = 0; e < headDim; e++) {
            FloatVector k = FloatVector.fromMemorySegment(F, keys, k0 + 4L * KEY_BLOCK * e, LE);
            a = k.fma(FloatVector.broadcast(F, q[qa + e]), a);
            b = k.fma(FloatVector.broadcast(F, q[qb + e]), b);
            c = k.fma(FloatVector.broadcast(F, q[qc + e]), c);
            d = k.fma(FloatVector.broadcast(F, q[qd + e]), d);
        }
        a.mul(scale).intoArray(s, s0);
        b.mul(scale).intoArray(s, s0 + stride);
        c.mul(scale).intoArray(s, s0 + 2 * stride);
        d.mul(scale).intoArray(s, s0 + 3 * stride);
    }

    /** As {@link #scores4} for two vectors of positions (keys at {@code ka} and {@code kb}, scores side by side). */
    private static void scores4x2(float[] q, int qa, int qb, int qc, int qd, MemorySegment keys, long ka, long kb,
                                  int headDim, float scale, float[] s, int s0, int stride) {
        FloatVector a = FloatVector.zero(F), b = a, c = a, d = a, a2 = a, b2 = a, c2 = a, d2 = a;
        for (int e = 0; e < headDim; e++) {
            FloatVector k = FloatVector.fromMemorySegment(F, keys, ka + 4L * KEY_BLOCK * e, LE);
            FloatVector k2 = FloatVector.fromMemorySegment(F, keys, kb + 4L * KEY_BLOCK * e, LE);
            FloatVector x = FloatVector.broadcast(F, q[qa + e]);
            a = k.fma(x, a);
            a2 = k2.fma(x, a2);
            x = FloatVector.broadcast(F, q[qb + e]);
            b = k.fma(x, b);
            b2 = k2.fma(x, b2);
            x = FloatVector.broadcast(F, q[qc + e]);
            c = k.fma(x, c);
            c2 = k2.fma(x, c2);
            x = FloatVector.broadcast(F, q[qd + e]);
            d = k.fma(x, d);
            d2 = k2.fma(x, d2);
        }
        a.mul(scale).intoArray(s, s0);
        a2.mul(scale).intoArray(s, s0 + LANES);
        b.mul(scale).intoArray(s, s0 + stride);
        b2.mul(scale).intoArray(s, s0 + stride + LANES);
        c.mul(scale).intoArray(s, s0 + 2 * stride);
        c2.mul(scale).intoArray(s, s0 + 2 * stride + LANES);
        d.mul(scale).intoArray(s, s0 + 3 * stride);
        d2.mul(scale).intoArray(s, s0 + 3 * stride + LANES);
    }

    /** As {@link #scores4} for one query; the dimensions go round four accumulators (four FMA chains in flight). */
    private static void scores1(float[] q, int qa, MemorySegment keys, long k0, int headDim, float scale, float[] s, int s0) {
        FloatVector a = FloatVector.zero(F), b = a, c = a, d = a;
        long step = 4L * KEY_BLOCK;
        int e = 0;
        for (; e + 4 <= headDim; e += 4) {
            long k = k0 + step * e;
            a = FloatVector.fromMemorySegment(F, keys, k, LE).fma(FloatVector.broadcast(F, q[qa + e]), a);
            b = FloatVector.fromMemorySegment(F, keys, k + step, LE).fma(FloatVector.broadcast(F, q[qa + e + 1]), b);
            c = FloatVector.fromMemorySegment(F, keys, k + 2 * step, LE).fma(FloatVector.broadcast(F, q[qa + e + 2]), c);
            d = FloatVector.fromMemorySegment(F, keys, k + 3 * step, LE).fma(FloatVector.broadcast(F, q[qa + e + 3]), d);
        }
        for (; e < headDim; e++) a = FloatVector.fromMemorySegment(F, keys, k0 + step * e, LE).fma(FloatVector.broadcast(F, q[qa + e]), a);
        a.add(b).add(c.add(d)).mul(scale).intoArray(s, s0);
    }

    /**
     * Dimensions {@code [c, c + LANES)} (values at {@code v0 + p·rowBytes}) of four queries' outputs, positions
     * {@code [p0, p1)} weighted by their scores (query {@code i}'s at {@code s0 + i·stride}); started from zero
     * on the first block, else added to {@code out}.
     */
    private static void values4(MemorySegment values, long v0, long rowBytes, int p0, int p1, float[] s, int s0, int stride,
                                boolean first, float[] out, int oa, int ob, int oc, int od) {
        FloatVector a, b, c, d;
        if (first) {
            a = b = c = d = FloatVector.zero(F);
        } else {
            a = FloatVector.fromArray(F, out, oa);
            b = FloatVector.fromArray(F, out, ob);
            c = FloatVector.fromArray(F, out, oc);
            d = FloatVector.fromArray(F, out, od);
        }
        int sb = s0 + stride, sc = sb + stride, sd = sc + stride;
        for (int p = p0; p < p1; p++) {
            FloatVector v = FloatVector.fromMemorySegment(F, values, v0 + p * rowBytes, LE);
            a = v.fma(FloatVector.broadcast(F, s[s0 + p]), a);
            b = v.fma(FloatVector.broadcast(F, s[sb + p]), b);
            c = v.fma(FloatVector.broadcast(F, s[sc + p]), c);
            d = v.fma(FloatVector.broadcast(F, s[sd + p]), d);
        }
        a.intoArray(out, oa);
        b.intoArray(out, ob);
        c.intoArray(out, oc);
        d.intoArray(out, od);
    }

    /** As {@link #values4} for dimensions {@code [c, c + 2·LANES)}: two vectors per query, eight FMA chains. */
    private static void values4x2(MemorySegment values, long v0, long rowBytes, int p0, int p1, float[] s, int s0, int stride,
                                  boolean first, float[] out, int oa, int ob, int oc, int od) {
        FloatVector a, b, c, d, a2, b2, c2, d2;
        if (first) {
            a = b = c = d = a2 = b2 = c2 = d2 = FloatVector.zero(F);
        } else {
            a = FloatVector.fromArray(F, out, oa);
            a2 = FloatVector.fromArray(F, out, oa + LANES);
            b = FloatVector.fromArray(F, out, ob);
            b2 = FloatVector.fromArray(F, out, ob + LANES);
            c = FloatVector.fromArray(F, out, oc);
            c2 = FloatVector.fromArray(F, out, oc + LANES);
            d = FloatVector.fromArray(F, out, od);
            d2 = FloatVector.fromArray(F, out, od + LANES);
        }
        int sb = s0 + stride, sc = sb + stride, sd = sc + stride;
        for (int p = p0; p < p1; p++) {
            long at = v0 + p * rowBytes;
            FloatVector v = FloatVector.fromMemorySegment(F, values, at, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(F, values, at + 4L * LANES, LE);
            FloatVector x = FloatVector.broadcast(F, s[s0 + p]);
            a = v.fma(x, a);
            a2 = v2.fma(x, a2);
            x = FloatVector.broadcast(F, s[sb + p]);
            b = v.fma(x, b);
            b2 = v2.fma(x, b2);
            x = FloatVector.broadcast(F, s[sc + p]);
            c = v.fma(x, c);
            c2 = v2.fma(x, c2);
            x = FloatVector.broadcast(F, s[sd + p]);
            d = v.fma(x, d);
            d2 = v2.fma(x, d2);
        }
        a.intoArray(out, oa);
        a2.intoArray(out, oa + LANES);
        b.intoArray(out, ob);
        b2.intoArray(out, ob + LANES);
        c.intoArray(out, oc);
        c2.intoArray(out, oc + LANES);
        d.intoArray(out, od);
        d2.intoArray(out, od + LANES);
    }

    /**
     * As {@link #values4} for one query, always added to {@code out} (zeroed before the first block); the positions go
     * round four accumulators.
     */
    private static void values1(MemorySegment values, long v0, long rowBytes, int p0, int p1, float[] s, int s0,
                                float[] out, int oa) {
        FloatVector a = FloatVector.fromArray(F, out, oa), b = FloatVector.zero(F), c = b, d = b;
        int p = p0;
        for (; p + 4 <= p1; p += 4) {
            long v = v0 + p * rowBytes;
            a = FloatVector.fromMemorySegment(F, values, v, LE).fma(FloatVector.broadcast(F, s[s0 + p]), a);
            b = FloatVector.fromMemorySegment(F, values, v + rowBytes, LE).fma(FloatVector.broadcast(F, s[s0 + p + 1]), b);
            c = FloatVector.fromMemorySegment(F, values, v + 2 * rowBytes, LE).fma(FloatVector.broadcast(F, s[s0 + p + 2]), c);
            d = FloatVector.fromMemorySegment(F, values, v + 3 * rowBytes, LE).fma(FloatVector.broadcast(F, s[s0 + p + 3]), d);
        }
        for (; p < p1; p++) a = FloatVector.fromMemorySegment(F, values, v0 + p * rowBytes, LE).fma(FloatVector.broadcast(F, s[s0 + p]), a);
        a.add(b).add(c.add(d)).intoArray(out, oa);
    }

    /** The dimensions past the last whole vector, one at a time. */
    private static void valueTail(MemorySegment values, long base, long rowBytes, int from, int headDim, int p0, int p1,
                                  float[] s, int s0, boolean first, float[] out, int o) {
        for (int e = from; e < headDim; e++) {
            float acc = first ? 0f : out[o + e];
            for (int p = p0; p < p1; p++) acc += s[s0 + p] * values.get(VectorDot.F32, base + p * rowBytes + 4L * e);
            out[o + e] = acc;
        }
    }

    /**
     * The largest of {@code s[from ‥ from+n)}, as {@code Math.max} over them gives it (NaN wins), 16 at a time: a
     * scalar {@code Math.max} chain costs several cycles per score (C2 keeps Java's NaN and −0 rules with a
     * compare-and-blend sequence), one per position and query in decode at depth (bench/NOTES.md, step 43).
     */
    static float maxOf(float[] s, int from, int n) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m, m2 = m, m3 = m;
        int i = from, end = from + n;
        // four chains: FloatVector.max is a sequence too, ≈ 14 cycles deep
        for (int bound = end - 4 * LANES; i <= bound; i += 4 * LANES) {
            m = m.max(FloatVector.fromArray(F, s, i));
            m1 = m1.max(FloatVector.fromArray(F, s, i + LANES));
            m2 = m2.max(FloatVector.fromArray(F, s, i + 2 * LANES));
            m3 = m3.max(FloatVector.fromArray(F, s, i + 3 * LANES));
        }
        m = m.max(m1).max(m2.max(m3));
        for (int bound = end - LANES; i <= bound; i += LANES) m = m.max(FloatVector.fromArray(F, s, i));
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < end; i++) max = Math.max(max, s[i]);
        return max;
    }

    /** s[i] = exp(s[i] − max) for i in {@code [from, from + n)}; returns their sum. */
    static float expInPlace(float[] s, int from, int n, float max) {
        FloatVector vmax = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        int i = from, end = from + n;
        for (int bound = end - LANES; i <= bound; i += LANES) {
            FloatVector e = FloatVector.fromArray(F, s, i).sub(vmax).lanewise(VectorOperators.EXP);
            e.intoArray(s, i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            s[i] = (float) Math.exp(s[i] - max);
            sum += s[i];
        }
        return sum;
    }
}
