package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dot products of one weight row, read in place from a mapped segment, with float activations.
 * Every kernel is a vector loop over {@link FloatVector#SPECIES_PREFERRED} lanes plus a scalar tail,
 * so any length works; accumulation is in F32.
 */
public final class VectorDot {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    /** Half-width shorts, so that one short load widens to exactly one float vector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /** The upper BF16 value of an int lane of a {@link Repacked} BF16 chunk, in place: that value as a float. */
    static final int HIGH_HALF = 0xFFFF0000;

    private VectorDot() {
    }

    /** Σ w[i]·x[xOff+i] for the {@code n} elements of {@code dtype} starting at byte {@code off} of {@code w}. */
    public static float dot(DType dtype, MemorySegment w, long off, float[] x, int xOff, int n) {
        return switch (dtype) {
            case F32 -> f32(w, off, x, xOff, n);
            case BF16 -> bf16(w, off, x, xOff, n);
            case F16 -> f16(w, off, x, xOff, n);
            case Q8_0 -> QuantDot.dotQ8_0(w, off, x, xOff, n);
            case Q4_0 -> QuantDot.dotQ4_0(w, off, x, xOff, n);
            case Q6_K -> QuantDot.dotQ6K(w, off, x, xOff, n);
            default -> throw new IllegalArgumentException("no kernel for weights of dtype " + dtype);
        };
    }

    static float f32(MemorySegment w, long off, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - 2 * LANES; i <= bound; i += 2 * LANES) {
            acc0 = FloatVector.fromMemorySegment(F, w, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            acc1 = FloatVector.fromMemorySegment(F, w, off + 4L * i + 4L * LANES, LE)
                    .fma(FloatVector.fromArray(F, x, xOff + i + LANES), acc1);
        }
        for (int bound = n - LANES; i <= bound; i += LANES) {
            acc0 = FloatVector.fromMemorySegment(F, w, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w.get(F32, off + 4L * i) * x[xOff + i];
        }
        return sum;
    }

    /*
     * BF16 is the top half of an IEEE float, so widening is a shift:
     *
     *   bf16  [s eeeeeeee mmmmmmm]                    16 bits in memory
     *   int   [s eeeeeeee mmmmmmm 0000000000000000]   (short → int) << 16
     *   float  same bits, reinterpreted: exact, no rounding
     *
     * The short → int conversion sign-extends, but the shift pushes the extension out.
     */
    static FloatVector widenBf16(MemorySegment w, long byteOff) {
        ShortVector s = ShortVector.fromMemorySegment(S, w, byteOff, LE);
        IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static float bf16(MemorySegment w, long off, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - 2 * LANES; i <= bound; i += 2 * LANES) {
            acc0 = widenBf16(w, off + 2L * i).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            // 2L·i + 2L·LANES, not 2L·(i + LANES): the int sum might overflow before widening, so C2 kept a bounds
            // check per load in the loop (bench/NOTES.md, step 22)
            acc1 = widenBf16(w, off + 2L * i + 2L * LANES).fma(FloatVector.fromArray(F, x, xOff + i + LANES), acc1);
        }
        for (int bound = n - LANES; i <= bound; i += LANES) {
            acc0 = widenBf16(w, off + 2L * i).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Float.intBitsToFloat((w.get(I16, off + 2L * i) & 0xFFFF) << 16) * x[xOff + i];
        }
        return sum;
    }

    /**
     * {@code rows} BF16 rows ({@code off}, {@code off + stride}, …) of {@code n} values, {@code n} a multiple of
     * {@code 4·LANES}, times the same activations; row {@code k}'s result is added to {@code out[o + k]}. One loop
     * runs over every vector of every row (a row's end is a branch in it, not a loop exit): one call per 2 KB row
     * streamed the weights from DRAM at about half the machine's bandwidth (bench/NOTES.md, step 34).
     */
    static void bf16Rows(MemorySegment w, long off, long stride, int rows, float[] x, int xOff, int n, float[] out, int o) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        long p = off, gap = stride - 2L * n;
        int i = xOff, end = xOff + n;
        for (int s = 0, total = rows * (n / (4 * LANES)); s < total; s++, p += 8L * LANES) {
            acc0 = widenBf16(w, p).fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = widenBf16(w, p + 2L * LANES).fma(FloatVector.fromArray(F, x, i + LANES), acc1);
            acc2 = widenBf16(w, p + 4L * LANES).fma(FloatVector.fromArray(F, x, i + 2 * LANES), acc2);
            acc3 = widenBf16(w, p + 6L * LANES).fma(FloatVector.fromArray(F, x, i + 3 * LANES), acc3);
            i += 4 * LANES;
            if (i == end) {   // the row's last vectors: its sum out, on to the next row
                out[o++] += acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
                acc0 = FloatVector.zero(F);
                acc1 = acc0;
                acc2 = acc0;
                acc3 = acc0;
                i = xOff;
                p += gap;
            }
        }
    }

    /**
     * Four BF16 rows ({@code off}, {@code off + stride}, …) times the same activations, added to {@code out[o ‥ o+4)}:
     * each activation vector is loaded once for the four rows. For long rows (bench/NOTES.md, step 26): one row at a
     * time reads 4 bytes of activations from L1 (or, past 8192 columns, from L2) per 2 bytes of weights, and that
     * traffic slowed the weights' stream from DRAM to half speed. Rows of 2 and 4 KB were slower this way (four
     * short streams instead of one), so {@link MatMul} uses it only for rows of {@link MatMul#ROWS4_MIN_BYTES} and
     * more.
     */
    static void bf16Rows4(MemorySegment w, long off, long stride, float[] x, int xOff, int n, float[] out, int o) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        long offB = off + stride, offC = offB + stride, offD = offC + stride;
        int i = 0;
        for (int bound = n - 2 * LANES; i <= bound; i += 2 * LANES) {
            FloatVector x0 = FloatVector.fromArray(F, x, xOff + i), x1 = FloatVector.fromArray(F, x, xOff + i + LANES);
            a0 = widenBf16(w, off + 2L * i).fma(x0, a0);
            b0 = widenBf16(w, offB + 2L * i).fma(x0, b0);
            c0 = widenBf16(w, offC + 2L * i).fma(x0, c0);
            d0 = widenBf16(w, offD + 2L * i).fma(x0, d0);
            a1 = widenBf16(w, off + 2L * i + 2L * LANES).fma(x1, a1);
            b1 = widenBf16(w, offB + 2L * i + 2L * LANES).fma(x1, b1);
            c1 = widenBf16(w, offC + 2L * i + 2L * LANES).fma(x1, c1);
            d1 = widenBf16(w, offD + 2L * i + 2L * LANES).fma(x1, d1);
        }
        int rest = n - i;
        out[o] += a0.add(a1).reduceLanes(VectorOperators.ADD) + bf16(w, off + 2L * i, x, xOff + i, rest);
        out[o + 1] += b0.add(b1).reduceLanes(VectorOperators.ADD) + bf16(w, offB + 2L * i, x, xOff + i, rest);
        out[o + 2] += c0.add(c1).reduceLanes(VectorOperators.ADD) + bf16(w, offC + 2L * i, x, xOff + i, rest);
        out[o + 3] += d0.add(d1).reduceLanes(VectorOperators.ADD) + bf16(w, offD + 2L * i, x, xOff + i, rest);
    }

    /**
     * {@code quads} consecutive quads of one column slab of a {@link Repacked} BF16 copy (from {@code off}: each quad's
     * four rows' chunks of {@link Repacked#BF16_CHUNK} values interleaved, row {@code j}'s chunk {@code k} at {@code
     * (4k + j)·chunkBytes} in it, {@code chunks} chunks a row; quads one after another) times the same slab of
     * activations ({@code x} from {@code xOff}); quad {@code q}'s four sums stored to, or with {@code add} added to,
     * {@code out[o + 4q ‥ +4)}. Memory is read strictly front to back in one loop over all the quads: a loop per quad
     * (per call) streamed slower, and four rows stored one after another (four streams) 10–25 % slower from DRAM at
     * 3072 columns (bench/NOTES.md, steps 29 and 57). The slab keeps its activations (4 KB) in L1 while the weights
     * stream past: over whole 3072–4096-column rows (12–16 KB) they were re-read from L2 and the stream ran 15–25 %
     * slower (step 57). A chunk is one load of int lanes, each holding two values (see {@link Repacked}): {@code v << 16}
     * is the first vector's floats, {@code v & 0xFFFF0000} the second's (step 71).
     */
    static void bf16Quads(MemorySegment w, long off, int quads, float[] x, int xOff, int chunks, float[] out, int o,
                          boolean add) {
        FloatVector zero = FloatVector.zero(F), a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero,
                d0 = zero, d1 = zero;
        long chunk = 4L * LANES;   // bytes of one chunk: a vector of int lanes, two values each
        long p = off;
        int i = xOff, end = xOff + 2 * LANES * chunks;
        for (int s = 0, total = quads * chunks; s < total; s++, p += 16L * LANES) {
            FloatVector x0 = FloatVector.fromArray(F, x, i), x1 = FloatVector.fromArray(F, x, i + LANES);
            IntVector va = IntVector.fromMemorySegment(I, w, p, LE), vb = IntVector.fromMemorySegment(I, w, p + chunk, LE);
            IntVector vc = IntVector.fromMemorySegment(I, w, p + 2 * chunk, LE), vd = IntVector.fromMemorySegment(I, w, p + 3 * chunk, LE);
            a0 = va.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0);
            a1 = va.and(HIGH_HALF).reinterpretAsFloats().fma(x1, a1);
            b0 = vb.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, b0);
            b1 = vb.and(HIGH_HALF).reinterpretAsFloats().fma(x1, b1);
            c0 = vc.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, c0);
            c1 = vc.and(HIGH_HALF).reinterpretAsFloats().fma(x1, c1);
            d0 = vd.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, d0);
            d1 = vd.and(HIGH_HALF).reinterpretAsFloats().fma(x1, d1);
            i += 2 * LANES;
            if (i == end) {   // the quad's last chunk: its four sums out, on to the next quad
                float sa = a0.add(a1).reduceLanes(VectorOperators.ADD), sb = b0.add(b1).reduceLanes(VectorOperators.ADD);
                float sc = c0.add(c1).reduceLanes(VectorOperators.ADD), sd = d0.add(d1).reduceLanes(VectorOperators.ADD);
                if (add) {
                    sa += out[o];
                    sb += out[o + 1];
                    sc += out[o + 2];
                    sd += out[o + 3];
                }
                out[o] = sa;
                out[o + 1] = sb;
                out[o + 2] = sc;
                out[o + 3] = sd;
                o += 4;
                a0 = zero;
                a1 = zero;
                b0 = zero;
                b1 = zero;
                c0 = zero;
                c1 = zero;
                d0 = zero;
                d1 = zero;
                i = xOff;
            }
        }
    }

    /**
     * One row of one column slab of a {@link Repacked} BF16 copy (its chunks four chunks apart; rows a part leaves
     * outside whole quads).
     */
    static float bf16QuadRow(MemorySegment w, long off, float[] x, int xOff, int chunks) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int k = 0; k < chunks; k++) {
            int i = xOff + 2 * LANES * k;
            IntVector v = IntVector.fromMemorySegment(I, w, off + 16L * LANES * k, LE);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, i), a0);
            a1 = v.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, i + LANES), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    /** F16 has no vector widening in the incubator API; {@link Float#float16ToFloat} is an intrinsic. */
    static float f16(MemorySegment w, long off, float[] x, int xOff, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            long o = off + 2L * i;
            s0 += Float.float16ToFloat(w.get(I16, o)) * x[xOff + i];
            s1 += Float.float16ToFloat(w.get(I16, o + 2)) * x[xOff + i + 1];
            s2 += Float.float16ToFloat(w.get(I16, o + 4)) * x[xOff + i + 2];
            s3 += Float.float16ToFloat(w.get(I16, o + 6)) * x[xOff + i + 3];
        }
        for (; i < n; i++) {
            s0 += Float.float16ToFloat(w.get(I16, off + 2L * i)) * x[xOff + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Σ a[i]·b[i] over float arrays. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /** Σ a[i]·seg[i] where {@code seg} holds floats at byte {@code off} (the KV cache). */
    public static float dot(float[] a, int aOff, MemorySegment seg, long off, int n) {
        return f32(seg, off, a, aOff, n);
    }

    /** y[yOff+i] += alpha · seg[i] for floats at byte {@code off} of {@code seg}. */
    public static void axpy(float alpha, MemorySegment seg, long off, float[] y, int yOff, int n) {
        FloatVector va = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int bound = n - LANES; i <= bound; i += LANES) {
            FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(va, FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * seg.get(F32, off + 4L * i);
    }

    /** Widens {@code n} elements of {@code dtype} at byte {@code off} into {@code dst}. */
    public static void toFloats(DType dtype, MemorySegment w, long off, float[] dst, int dstOff, int n) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(w, F32, off, dst, dstOff, n);
            case BF16 -> {
                int i = 0;
                for (int bound = n - LANES; i <= bound; i += LANES) widenBf16(w, off + 2L * i).intoArray(dst, dstOff + i);
                for (; i < n; i++) dst[dstOff + i] = Float.intBitsToFloat((w.get(I16, off + 2L * i) & 0xFFFF) << 16);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(w.get(I16, off + 2L * i));
            }
            case Q8_0 -> QuantDot.dequantQ8_0(w, off, dst, dstOff, n);
            case Q4_0 -> QuantDot.dequantQ4_0(w, off, dst, dstOff, n);
            case Q6_K -> QuantDot.dequantQ6KRow(w, off, dst, dstOff, n);
            default -> throw new IllegalArgumentException("no kernel for weights of dtype " + dtype);
        }
    }
}
