package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.I;
import static dev.nemotron4j.engine.kernels.VectorDot.I16;
import static dev.nemotron4j.engine.kernels.VectorDot.LE;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

/**
 * Q6_K and Q4_0 rows times int8 activations ({@link Int8Activations}) with two multiply-adds per 32-bit multiply.
 *
 * <p>The Vector API has no widening byte or short dot product ({@code vpmaddubsw}, {@code vpdpbusd}), and widening
 * every weight to a float costs a conversion and an FMA per 16 values, which is what made these formats compute-bound
 * (bench/NOTES.md, step 9). Here the unsigned small weights {@code wa, wb} (Q6_K: 0‥63, Q4_0: 0‥15) sit in the two
 * 16-bit halves of an int lane, the activations in the swapped order {@code (qa << 16) + qb}, and
 *
 * <pre>
 *   (wa + wb·2¹⁶) · (qb + qa·2¹⁶)  ≡  wa·qb  +  2¹⁶ · (wa·qa + wb·qb)     (mod 2³²)
 * </pre>
 *
 * With |wa·qb| ≤ 63·127 and |wa·qa + wb·qb| ≤ 2·63·127 the product never overflows, and converted to float it is
 * 65536 times the pair's dot product plus a cross term below 0.13 (relative 1e-5 of a typical pair, far under the
 * int8 rounding of the activations). The weights' offsets (+32, +8) come back out through per-group sums of the
 * activations. Written for 16 float lanes (AVX-512); with 8 (AVX2) the kernels for {@link Repacked} copies hand over
 * to {@link PackedIntDot256}, and the rest, like narrower vectors, leave the work to {@link QuantDot}'s float kernels.
 */
final class PackedIntDot {
    /** 16 float lanes (AVX-512): every kernel here runs as written. */
    static final boolean WIDE = F.length() == 16;
    /** The kernels for GGUF rows ({@link #dot}) and {@link PairTiles}' prefill: 16 lanes only. */
    static final boolean AVAILABLE = WIDE && !Boolean.getBoolean("n4j.noIntDot");
    /**
     * The kernels for {@link Repacked} copies: with 16 lanes here, with 8 (AVX2) in {@link PackedIntDot256}, which the
     * methods below hand their work to (a branch on a constant that C2 folds away).
     */
    static final boolean REPACKED = (WIDE || F.length() == 8) && !Boolean.getBoolean("n4j.noIntDot");

    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = VectorSpecies.of(short.class, VectorShape.S_512_BIT);
    private static final float INV_65536 = 1f / 65536;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    /** {@link #halves} leaves its scales 2¹¹² too small. */
    private static final float HALF_UNSCALE = 0x1p112f;

    /* Scale lanes for the 32 values of one 6-bit byte vector: int lanes 0‥7 use group 2k, lanes 8‥15 group 2k+1. */
    private static final VectorShuffle<Float> G0 = groups(0), G1 = groups(1), G2 = groups(2), G3 = groups(3),
            G4 = groups(4), G5 = groups(5), G6 = groups(6), G7 = groups(7);

    private PackedIntDot() {
    }

    /**
     * {@code rows} rows of Q6_K or Q4_0 weights (GGUF layout), the first at byte {@code off} and each {@code stride}
     * bytes after the one before, times activations {@code x0 ‥ x0+n} of {@code a}; row {@code k}'s result is added
     * to {@code out[o + k]}.
     */
    static void dot(DType dtype, MemorySegment w, long off, long stride, int rows, Int8Activations a, int x0, int n,
                    float[] out, int o) {
        switch (dtype) {
            case Q6_K -> dotQ6KRows(w, off, stride, rows, a, x0, n, out, o);
            case Q4_0 -> {
                for (int k = 0; k < rows; k++) out[o + k] += dotQ4_0(w, off + k * stride, a, x0, n);
            }
            default -> throw new IllegalArgumentException("no int8 kernel for weights of dtype " + dtype);
        }
    }

    private static VectorShuffle<Float> groups(int k) {
        if (F.length() != 16) return null;
        int[] idx = new int[16];
        for (int i = 0; i < 16; i++) idx[i] = 2 * k + (i >= 8 ? 1 : 0);
        return VectorShuffle.fromArray(F, idx, 0);
    }

    private static float f16(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(I16, off));
    }

    /**
     * The 16 half-precision numbers at {@code off} as floats 2¹¹² times too small: the half's 15 magnitude bits moved
     * to the top of a float's exponent and mantissa, its sign to the float's. Exact for every finite half (a
     * subnormal half becomes a subnormal float); infinities and NaNs are not, and {@link Repacked} does not store them.
     */
    static FloatVector halves(MemorySegment d, long off) {
        return ((IntVector) ShortVector.fromMemorySegment(S256, d, off, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats();
    }

    /**
     * {@code rows} Q6_K rows of {@code n} values, the first at byte {@code off} and each {@code stride} bytes after the
     * one before, times activations {@code x0 ‥ x0+n} of {@code a} ({@code x0} a multiple of 256); row {@code k}'s
     * result is added to {@code out[o + k]}.
     *
     * <p>Per half super-block, the 128 six-bit values come out of 64 low-nibble bytes and 32 two-bit-field bytes as
     * four vectors of 32 bytes, each covering 32 consecutive values (two scale groups). Bytes are shifted as ints
     * (x86 has no byte shifts) and masked, which drops whatever crossed a byte boundary. One loop runs over every
     * super-block of every row (a row's end is a branch in it, not a loop exit): as for {@link #dotQ4Pairs}, a loop
     * per row left the weights streaming from DRAM far below the rate of the same arithmetic in one long loop
     * (bench/NOTES.md, step 34).
     */
    static void dotQ6KRows(MemorySegment w, long off, long stride, int rows, Int8Activations a, int x0, int n, float[] out,
                           int o) {
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F), acc2 = FloatVector.zero(F),
                acc3 = FloatVector.zero(F), corr = FloatVector.zero(F);
        int blocks = n / 256, b = 0;
        long base = off, gap = stride - 210L * blocks;
        for (int i = 0, total = rows * blocks; i < total; i++, base += 210) {
            int e0 = x0 + 256 * b;
            float d = f16(w, base + 208) * xs[e0 >> 8];
            FloatVector sv = ((FloatVector) ByteVector.fromMemorySegment(B128, w, base + 192, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d);
            corr = sv.fma(FloatVector.fromArray(F, xc, e0 >> 4), corr);
            int p = e0 >> 1;

            ByteVector ql0 = ByteVector.fromMemorySegment(B256, w, base, LE);
            ByteVector ql1 = ByteVector.fromMemorySegment(B256, w, base + 32, LE);
            ByteVector qh = ByteVector.fromMemorySegment(B256, w, base + 128, LE);
            acc0 = ((FloatVector) ((IntVector) ql0.and((byte) 0x0F)
                    .or(qh.reinterpretAsInts().lanewise(LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G0), acc0);
            acc1 = ((FloatVector) ((IntVector) ql1.and((byte) 0x0F)
                    .or(qh.reinterpretAsInts().lanewise(LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p + 16)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G1), acc1);
            acc2 = ((FloatVector) ((IntVector) ql0.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh.and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p + 32)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G2), acc2);
            acc3 = ((FloatVector) ((IntVector) ql1.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p + 48)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G3), acc3);

            // the second half written out again on purpose: a loop over halves would need its shuffles from an
            // array (not constants) and a helper returning vectors would not inline (QuantDot's note, step 5)
            ByteVector ql2 = ByteVector.fromMemorySegment(B256, w, base + 64, LE);
            ByteVector ql3 = ByteVector.fromMemorySegment(B256, w, base + 96, LE);
            ByteVector qh1 = ByteVector.fromMemorySegment(B256, w, base + 160, LE);
            acc0 = ((FloatVector) ((IntVector) ql2.and((byte) 0x0F)
                    .or(qh1.reinterpretAsInts().lanewise(LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p + 64)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G4), acc0);
            acc1 = ((FloatVector) ((IntVector) ql3.and((byte) 0x0F)
                    .or(qh1.reinterpretAsInts().lanewise(LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p + 80)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G5), acc1);
            acc2 = ((FloatVector) ((IntVector) ql2.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh1.and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p + 96)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G6), acc2);
            acc3 = ((FloatVector) ((IntVector) ql3.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts())
                    .mul(IntVector.fromArray(I, xp, p + 112)).convert(VectorOperators.I2F, 0))
                    .fma(sv.rearrange(G7), acc3);
            if (++b == blocks) {   // the row's last super-block: its sum out, on to the next row
                out[o++] += acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD) * INV_65536
                        - corr.reduceLanes(VectorOperators.ADD);
                acc0 = acc1 = acc2 = acc3 = corr = FloatVector.zero(F);
                b = 0;
                base += gap;
            }
        }
    }

    /**
     * {@code rows} consecutive rows of a {@link Q6Words} copy ({@code n} values each, the first at byte {@code off})
     * times activations {@code x0 ‥ x0+n} of {@code a} in the {@link Q6Groups} order ({@code x0} a multiple of 256);
     * row {@code k}'s result is added to {@code out[o + k]}. The vectors of pairs, the integer sums and the float
     * arithmetic are {@link #dotQ6Groups}'s; each vector is one shift and mask of a word (two of each, and an or, for
     * the two pairs split over two words).
     */
    static void dotQ6Words(MemorySegment w, long off, int rows, Int8Activations a, int x0, int n, float[] out, int o) {
        if (!WIDE) {
            PackedIntDot256.dotQ6Words(w, off, rows, a, x0, n, out, o);
            return;
        }
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector acc = FloatVector.zero(F), corr = FloatVector.zero(F);
        int blocks = n / 256, b = 0;
        long base = off;
        for (int i = 0, total = rows * blocks; i < total; i++, base += Q6Words.SUPER_BLOCK_BYTES) {
            int e0 = x0 + 256 * b, p = e0 >> 1;
            float d = f16(w, base + 208) * xs[e0 >> 8];
            FloatVector sv = ((FloatVector) ByteVector.fromMemorySegment(B128, w, base + 192, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d);
            corr = sv.fma(FloatVector.fromArray(F, xc, e0 >> 4), corr);
            IntVector w0 = IntVector.fromMemorySegment(I, w, base, LE);
            IntVector w1 = IntVector.fromMemorySegment(I, w, base + 64, LE);
            IntVector w2 = IntVector.fromMemorySegment(I, w, base + 128, LE);
            IntVector p0 = w0.and(0x003F003F).mul(IntVector.fromArray(I, xp, p));
            IntVector p1 = w0.lanewise(LSHR, 6).and(0x003F003F).mul(IntVector.fromArray(I, xp, p + 16));
            IntVector p2 = w0.lanewise(LSHR, 12).and(0x000F000F).or(w2.lanewise(LSHR, 8).and(0x00300030))
                    .mul(IntVector.fromArray(I, xp, p + 32));
            IntVector p3 = w1.and(0x003F003F).mul(IntVector.fromArray(I, xp, p + 48));
            FloatVector sum = ((FloatVector) p0.add(p1).convert(VectorOperators.I2F, 0))
                    .add((FloatVector) p2.add(p3).convert(VectorOperators.I2F, 0));
            IntVector p4 = w1.lanewise(LSHR, 6).and(0x003F003F).mul(IntVector.fromArray(I, xp, p + 64));
            IntVector p5 = w1.lanewise(LSHR, 12).and(0x000F000F).or(w2.lanewise(LSHR, 10).and(0x00300030))
                    .mul(IntVector.fromArray(I, xp, p + 80));
            IntVector p6 = w2.and(0x003F003F).mul(IntVector.fromArray(I, xp, p + 96));
            IntVector p7 = w2.lanewise(LSHR, 6).and(0x003F003F).mul(IntVector.fromArray(I, xp, p + 112));
            sum = sum.add(((FloatVector) p4.add(p5).convert(VectorOperators.I2F, 0))
                    .add((FloatVector) p6.add(p7).convert(VectorOperators.I2F, 0)));
            acc = sum.fma(sv, acc);
            if (++b == blocks) {   // the row's last super-block: its sum out, on to the next row
                out[o++] += acc.reduceLanes(VectorOperators.ADD) * INV_65536 - corr.reduceLanes(VectorOperators.ADD);
                acc = corr = FloatVector.zero(F);
                b = 0;
            }
        }
    }

    /**
     * {@code rows} consecutive rows of a {@link Q6Groups} copy ({@code n} values each, the first at byte {@code off})
     * times activations {@code x0 ‥ x0+n} of {@code a}, prepared for that layout ({@code x0} a multiple of 256); row
     * {@code k}'s result is added to {@code out[o + k]}.
     *
     * <p>The same bit operations as {@link #dotQ6KRows} give eight vectors of pairs, lane {@code j} of each from scale
     * group {@code j}: two vectors' products are added as ints before one conversion (each is {@code 2¹⁶·S + c} with
     * {@code |S| ≤ 2·63·127} and {@code |c| ≤ 63·127}, so two stay below 2³¹: 2 097 430 146 at most), and the
     * super-block's four sums take one FMA with its 16 scales.
     */
    static void dotQ6Groups(MemorySegment w, long off, int rows, Int8Activations a, int x0, int n, float[] out, int o) {
        if (!WIDE) {
            PackedIntDot256.dotQ6Groups(w, off, rows, a, x0, n, out, o);
            return;
        }
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector acc = FloatVector.zero(F), corr = FloatVector.zero(F);
        int blocks = n / 256, b = 0;
        long base = off;
        for (int i = 0, total = rows * blocks; i < total; i++, base += Q6Groups.SUPER_BLOCK_BYTES) {
            int e0 = x0 + 256 * b, p = e0 >> 1;
            float d = f16(w, base + 208) * xs[e0 >> 8];
            FloatVector sv = ((FloatVector) ByteVector.fromMemorySegment(B128, w, base + 192, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d);
            corr = sv.fma(FloatVector.fromArray(F, xc, e0 >> 4), corr);

            ByteVector ql0 = ByteVector.fromMemorySegment(B256, w, base, LE);
            ByteVector ql1 = ByteVector.fromMemorySegment(B256, w, base + 32, LE);
            ByteVector qh = ByteVector.fromMemorySegment(B256, w, base + 128, LE);
            IntVector p0 = ((IntVector) ql0.and((byte) 0x0F)
                    .or(qh.reinterpretAsInts().lanewise(LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p));
            IntVector p1 = ((IntVector) ql1.and((byte) 0x0F)
                    .or(qh.reinterpretAsInts().lanewise(LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p + 16));
            IntVector p2 = ((IntVector) ql0.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh.and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p + 32));
            IntVector p3 = ((IntVector) ql1.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p + 48));
            FloatVector sum = ((FloatVector) p0.add(p1).convert(VectorOperators.I2F, 0))
                    .add((FloatVector) p2.add(p3).convert(VectorOperators.I2F, 0));

            // the second half written out again: a loop over the two halves ran 0–2 % slower end to end and up to
            // 20 % slower from L2 in a probe (bench/NOTES.md, session 24)
            ByteVector ql2 = ByteVector.fromMemorySegment(B256, w, base + 64, LE);
            ByteVector ql3 = ByteVector.fromMemorySegment(B256, w, base + 96, LE);
            ByteVector qh1 = ByteVector.fromMemorySegment(B256, w, base + 160, LE);
            IntVector p4 = ((IntVector) ql2.and((byte) 0x0F)
                    .or(qh1.reinterpretAsInts().lanewise(LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p + 64));
            IntVector p5 = ((IntVector) ql3.and((byte) 0x0F)
                    .or(qh1.reinterpretAsInts().lanewise(LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p + 80));
            IntVector p6 = ((IntVector) ql2.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh1.and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p + 96));
            IntVector p7 = ((IntVector) ql3.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                    .or(qh1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                    .convertShape(VectorOperators.B2S, S512, 0).reinterpretAsInts()).mul(IntVector.fromArray(I, xp, p + 112));
            sum = sum.add(((FloatVector) p4.add(p5).convert(VectorOperators.I2F, 0))
                    .add((FloatVector) p6.add(p7).convert(VectorOperators.I2F, 0)));
            acc = sum.fma(sv, acc);
            if (++b == blocks) {   // the row's last super-block: its sum out, on to the next row
                out[o++] += acc.reduceLanes(VectorOperators.ADD) * INV_65536 - corr.reduceLanes(VectorOperators.ADD);
                acc = corr = FloatVector.zero(F);
                b = 0;
            }
        }
    }

    /**
     * One Q4_0 row of {@code n} values at byte {@code off}, times activations {@code x0 ‥ x0+n} of {@code a}
     * ({@code x0} a multiple of 32). Byte {@code i} of a block holds values {@code i} (low nibble) and {@code i+16}
     * (high nibble): zero-extended to an int lane, {@code (v | v << 12) & 0x000F000F} is the packed pair, and
     * subtracting {@code 0x00080008} turns it into the signed pair {@code (wa-8) + (wb-8)·2¹⁶} exactly (as integers),
     * so the offset costs one subtraction and no correction term.
     */
    static float dotQ4_0(MemorySegment w, long off, Int8Activations a, int x0, int n) {
        int[] xp = a.packed;
        float[] xs = a.scale;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int blocks = n / 32, k0 = x0 >> 5, b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = off + 18L * b;
            int k = k0 + b;
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B128, w, o + 20, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            acc0 = ((FloatVector) v0.or(v0.lanewise(LSHL, 12)).and(0x000F000F).sub(0x00080008)
                    .mul(IntVector.fromArray(I, xp, 16 * k)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F, f16(w, o) * xs[k]), acc0);
            acc1 = ((FloatVector) v1.or(v1.lanewise(LSHL, 12)).and(0x000F000F).sub(0x00080008)
                    .mul(IntVector.fromArray(I, xp, 16 * k + 16)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F, f16(w, o + 18) * xs[k + 1]), acc1);
        }
        for (; b < blocks; b++) {
            long o = off + 18L * b;
            int k = k0 + b;
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            acc0 = ((FloatVector) v0.or(v0.lanewise(LSHL, 12)).and(0x000F000F).sub(0x00080008)
                    .mul(IntVector.fromArray(I, xp, 16 * k)).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F, f16(w, o) * xs[k]), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD) * INV_65536;
    }

    /**
     * One row of a Q4_0 {@link Repacked} matrix ({@code groups} groups of 16 blocks; group 0's scales at byte
     * {@code off}, its words at {@code words}) times activations {@code x0 ‥} of {@code a} prepared for it. Word
     * lane {@code j} holds bytes {@code 4i‥4i+3} of block {@code j}; as an int, {@code & 0x000F000F} after shifts of
     * 0, 4, 8 and 12 gives the value pairs {@code (4i, 4i+2)}, {@code (4i+16, 4i+18)}, {@code (4i+1, 4i+3)} and
     * {@code (4i+17, 4i+19)}, as stored: value + 8 (0‥15). Two int accumulators take 8 products each,
     * |Σ| ≤ 8·2·15·127·2¹⁶ + 8·15·127 < 2³¹; the +8 comes out once per group as {@code 8·2¹⁶·Σq} per block
     * ({@link Int8Activations#corr}). No subtraction per vector: fewer micro-ops per byte streamed (bench/NOTES.md,
     * step 18).
     */
    static float dotQ4Repacked(MemorySegment d, long off, long words, Int8Activations a, int x0, int groups) {
        if (!WIDE) return PackedIntDot256.dotQ4Repacked(d, off, words, a, x0, groups);
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector acc = FloatVector.zero(F);
        int g0 = x0 / Repacked.GROUP;
        for (int g = 0; g < groups; g++) {
            // Written out: C2 turned the loop over the four words into pre/main/post loops whose segment bounds
            // arithmetic cost more than the vector work. Offsets first: C2 stops inlining ordinary calls once the
            // method's node count passes a cutoff, and a call left in this loop spills every vector register
            // (bench/NOTES.md, step 20).
            long scales = off + Repacked.q4Scales(g), base = words + Repacked.Q4_PAIR_GROUP * g;
            int p = (g0 + g) * 256;
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S256, d, scales, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector w0 = IntVector.fromMemorySegment(I, d, base, LE);
            IntVector w1 = IntVector.fromMemorySegment(I, d, base + 64, LE);
            IntVector w2 = IntVector.fromMemorySegment(I, d, base + 128, LE);
            IntVector w3 = IntVector.fromMemorySegment(I, d, base + 192, LE);
            IntVector s0 = w0.and(0x000F000F).mul(IntVector.fromArray(I, xp, p));
            IntVector s1 = w0.lanewise(LSHR, 4).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 16));
            s0 = s0.add(w0.lanewise(LSHR, 8).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 32)));
            s1 = s1.add(w0.lanewise(LSHR, 12).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 48)));
            s0 = s0.add(w1.and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 64)));
            s1 = s1.add(w1.lanewise(LSHR, 4).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 80)));
            s0 = s0.add(w1.lanewise(LSHR, 8).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 96)));
            s1 = s1.add(w1.lanewise(LSHR, 12).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 112)));
            s0 = s0.add(w2.and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 128)));
            s1 = s1.add(w2.lanewise(LSHR, 4).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 144)));
            s0 = s0.add(w2.lanewise(LSHR, 8).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 160)));
            s1 = s1.add(w2.lanewise(LSHR, 12).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 176)));
            s0 = s0.add(w3.and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 192)));
            s1 = s1.add(w3.lanewise(LSHR, 4).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 208)));
            s0 = s0.add(w3.lanewise(LSHR, 8).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 224)));
            s1 = s1.add(w3.lanewise(LSHR, 12).and(0x000F000F).mul(IntVector.fromArray(I, xp, p + 240)));
            FloatVector sc = h.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats();   // as halves() does
            int k = (g0 + g) * 16;
            acc = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).add((FloatVector) s1.convert(VectorOperators.I2F, 0))
                    .sub(FloatVector.fromArray(F, xc, k)).fma(sc.mul(FloatVector.fromArray(F, xs, k).mul(HALF_UNSCALE)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD) * INV_65536;
    }

    /**
     * {@code pairs} consecutive stored Q4_0 {@link Repacked} pairs of one slab (the first at {@code off}; per group
     * both rows' scales, row 2p's words, row 2p+1's words), each row as {@link #dotQ4Repacked} does one: each
     * activation vector is loaded once for both rows of a pair, and memory is read strictly front to back. The
     * results of pair {@code k} are added to {@code out[o + 2k]} and {@code out[o + 2k + 1]}.
     *
     * <p>One loop over every group of every pair, not a call per pair: a loop that ends every few groups (six for
     * 3072 columns) left the weights streaming from DRAM at half the rate the same arithmetic reaches in one long
     * loop (13 against 24 GB/s on one thread; bench/NOTES.md, step 34). Written out for the same reasons as {@link
     * #dotQ4Repacked}, the scales' conversion included (through {@link #halves}, a call returning a vector, the
     * kernel ran about 1.5× slower in L2).
     */
    static void dotQ4Pairs(MemorySegment d, long off, int pairs, Int8Activations a, int x0, int groups, float[] out, int o) {
        if (!WIDE) {
            PackedIntDot256.dotQ4Pairs(d, off, pairs, a, x0, groups, out, o);
            return;
        }
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector accA = FloatVector.zero(F), accB = accA;
        int g0 = x0 / Repacked.GROUP, g = 0;
        long end = off + Repacked.Q4_PAIR_GROUP * groups * pairs;
        for (long ca = off; ca < end; ca += Repacked.Q4_PAIR_GROUP) {
            long cb = ca + Repacked.SCALE_BYTES;
            long wa = cb + Repacked.SCALE_BYTES, wb = wa + Repacked.Q4_WORD_BYTES;
            int p = (g0 + g) * 256;
            IntVector ha = (IntVector) ShortVector.fromMemorySegment(S256, d, ca, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector hb = (IntVector) ShortVector.fromMemorySegment(S256, d, cb, LE).convertShape(VectorOperators.S2I, I, 0);
            // halves() written out: each 16-bit scale sign-extended, shifted under a float's exponent (see there)
            IntVector sa0 = IntVector.zero(I), sa1 = sa0, sb0 = sa0, sb1 = sa0;
            IntVector x;
            IntVector a0 = IntVector.fromMemorySegment(I, d, wa, LE);
            IntVector b0 = IntVector.fromMemorySegment(I, d, wb, LE);
            x = IntVector.fromArray(I, xp, p);
            sa0 = sa0.add(a0.and(0x000F000F).mul(x));
            sb0 = sb0.add(b0.and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 16);
            sa1 = sa1.add(a0.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            sb1 = sb1.add(b0.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 32);
            sa0 = sa0.add(a0.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            sb0 = sb0.add(b0.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 48);
            sa1 = sa1.add(a0.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            sb1 = sb1.add(b0.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            IntVector a1 = IntVector.fromMemorySegment(I, d, wa + 64, LE);
            IntVector b1 = IntVector.fromMemorySegment(I, d, wb + 64, LE);
            x = IntVector.fromArray(I, xp, p + 64);
            sa0 = sa0.add(a1.and(0x000F000F).mul(x));
            sb0 = sb0.add(b1.and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 80);
            sa1 = sa1.add(a1.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            sb1 = sb1.add(b1.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 96);
            sa0 = sa0.add(a1.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            sb0 = sb0.add(b1.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 112);
            sa1 = sa1.add(a1.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            sb1 = sb1.add(b1.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            IntVector a2 = IntVector.fromMemorySegment(I, d, wa + 128, LE);
            IntVector b2 = IntVector.fromMemorySegment(I, d, wb + 128, LE);
            x = IntVector.fromArray(I, xp, p + 128);
            sa0 = sa0.add(a2.and(0x000F000F).mul(x));
            sb0 = sb0.add(b2.and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 144);
            sa1 = sa1.add(a2.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            sb1 = sb1.add(b2.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 160);
            sa0 = sa0.add(a2.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            sb0 = sb0.add(b2.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 176);
            sa1 = sa1.add(a2.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            sb1 = sb1.add(b2.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            IntVector a3 = IntVector.fromMemorySegment(I, d, wa + 192, LE);
            IntVector b3 = IntVector.fromMemorySegment(I, d, wb + 192, LE);
            x = IntVector.fromArray(I, xp, p + 192);
            sa0 = sa0.add(a3.and(0x000F000F).mul(x));
            sb0 = sb0.add(b3.and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 208);
            sa1 = sa1.add(a3.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            sb1 = sb1.add(b3.lanewise(LSHR, 4).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 224);
            sa0 = sa0.add(a3.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            sb0 = sb0.add(b3.lanewise(LSHR, 8).and(0x000F000F).mul(x));
            x = IntVector.fromArray(I, xp, p + 240);
            sa1 = sa1.add(a3.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            sb1 = sb1.add(b3.lanewise(LSHR, 12).and(0x000F000F).mul(x));
            int k = (g0 + g) * 16;
            FloatVector xsk = FloatVector.fromArray(F, xs, k).mul(HALF_UNSCALE), xck = FloatVector.fromArray(F, xc, k);
            accA = ((FloatVector) sa0.convert(VectorOperators.I2F, 0)).add((FloatVector) sa1.convert(VectorOperators.I2F, 0))
                    .sub(xck).fma(ha.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(xsk), accA);
            accB = ((FloatVector) sb0.convert(VectorOperators.I2F, 0)).add((FloatVector) sb1.convert(VectorOperators.I2F, 0))
                    .sub(xck).fma(hb.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(xsk), accB);
            if (++g == groups) {   // the pair's last group: its two sums out, on to the next pair
                out[o] += accA.reduceLanes(VectorOperators.ADD) * INV_65536;
                out[o + 1] += accB.reduceLanes(VectorOperators.ADD) * INV_65536;
                o += 2;
                g = 0;
                accA = FloatVector.zero(F);
                accB = accA;
            }
        }
    }

    /**
     * {@code rows} consecutive rows of one slab of a Q8_0 {@link Repacked} matrix (the first at {@code off}) times
     * activations prepared for it; row {@code k}'s result is added to {@code out[o + k]}. Word {@code s},
     * sign-extended to shorts and read as ints, holds in lane {@code j} the pair {@code wa + wb·2¹⁶} of values
     * {@code 2s, 2s+1} of block {@code j}; times {@code (qa << 16) + qb} that is {@code wa·qb + 2¹⁶·(wa·qa + wb·qb)}.
     * Eight-bit weights leave no room to sum products in the lane, so each product is reduced at once: with
     * |wa·qb| ≤ 128·127 &lt; 2¹⁵, {@code (p + 2¹⁵) >> 16} is exactly {@code wa·qa + wb·qb}, and 16 such sums stay far
     * inside an int. One loop runs over every group of every row, as in {@link #dotQ4Pairs}.
     */
    static void dotQ8Rows(MemorySegment d, long off, int rows, Int8Activations a, int x0, int groups, float[] out, int o) {
        if (!WIDE) {
            PackedIntDot256.dotQ8Rows(d, off, rows, a, x0, groups, out, o);
            return;
        }
        int[] xp = a.packed;
        float[] xs = a.scale;
        FloatVector acc = FloatVector.zero(F);
        int g0 = x0 / Repacked.GROUP, g = 0;
        long end = off + Repacked.Q8_GROUP_BYTES * groups * rows;
        for (long sc0 = off; sc0 < end; sc0 += Repacked.Q8_GROUP_BYTES) {
            long base = sc0 + Repacked.SCALE_BYTES;
            int p = (g0 + g) * 256;
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S256, d, sc0, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector s0 = IntVector.zero(I), s1 = IntVector.zero(I);
            for (int s = 0; s < 16; s += 2) {
                IntVector w0 = ((ShortVector) ByteVector.fromMemorySegment(B256, d, base + 32L * s, LE)
                        .convertShape(VectorOperators.B2S, S512, 0)).reinterpretAsInts();
                IntVector w1 = ((ShortVector) ByteVector.fromMemorySegment(B256, d, base + 32 + 32L * s, LE)
                        .convertShape(VectorOperators.B2S, S512, 0)).reinterpretAsInts();
                s0 = s0.add(w0.mul(IntVector.fromArray(I, xp, p + 16 * s)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(w1.mul(IntVector.fromArray(I, xp, p + 16 * s + 16)).add(0x8000).lanewise(ASHR, 16));
            }
            FloatVector sc = h.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats();   // as halves() does
            acc = ((FloatVector) s0.add(s1).convert(VectorOperators.I2F, 0))
                    .fma(sc.mul(FloatVector.fromArray(F, xs, (g0 + g) * 16).mul(HALF_UNSCALE)), acc);
            if (++g == groups) {   // the row's last group: its sum out, on to the next row
                out[o++] += acc.reduceLanes(VectorOperators.ADD);
                acc = FloatVector.zero(F);
                g = 0;
            }
        }
    }

    /**
     * Q4_0 {@link Repacked} group widened to floats: word {@code i}'s byte {@code b} gives, in lane {@code j}, values
     * {@code 4i+b} (low nibble) and {@code 4i+b+16} (high nibble) of block {@code j}; they go to
     * {@code dst[o + 128i + 32b + j]} and {@code dst[o + 128i + 32b + 16 + j]}, times the block's scale.
     */
    static void widenQ4Group(MemorySegment d, long scales, long words, float[] dst, int o) {
        if (!WIDE) {
            PackedIntDot256.widenQ4Group(d, scales, words, dst, o);
            return;
        }
        FloatVector sc = halves(d, scales).mul(HALF_UNSCALE);
        for (int i = 0; i < 4; i++) {
            IntVector x = IntVector.fromMemorySegment(I, d, words + 64L * i, LE);
            for (int b = 0; b < 4; b++) {
                int p = o + 128 * i + 32 * b;
                ((FloatVector) x.lanewise(LSHR, 8 * b).and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, p);
                ((FloatVector) x.lanewise(LSHR, 8 * b + 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, p + 16);
            }
        }
    }

    /**
     * Q4_0 {@link Repacked} group as signed value pairs for {@link PairTiles}: word {@code i} shifted by {@code 4v}
     * gives, in lane {@code j}, the nibble pair that {@link #dotQ4Repacked} multiplies by activation int
     * {@code 64i + 16v + j} of the group; here the +8 the nibbles carry is removed (giving {@code wa + wb·2¹⁶} with
     * signed values) and the pair goes to {@code dst[o + vs·(4i + v) + j]}: the group's 16 vectors of pairs {@code vs}
     * ints apart (16: one after the other; 64: a row's vectors between those of three other rows). The 16 scales go to
     * {@code scales[s ‥ s+16)}, divided by 2¹⁶ (the pair products sit in the upper half of an int).
     */
    static void pairsQ4Group(MemorySegment d, long scaleOff, long words, int[] dst, int o, int vs, float[] scales, int s) {
        if (!WIDE) {
            PackedIntDot256.pairsQ4Group(d, scaleOff, words, dst, o, vs, scales, s);
            return;
        }
        halves(d, scaleOff).mul(HALF_UNSCALE * INV_65536).intoArray(scales, s);
        for (int i = 0; i < 4; i++) {
            IntVector x = IntVector.fromMemorySegment(I, d, words + 64L * i, LE);
            int p = o + 4 * vs * i;
            x.and(0x000F000F).sub(0x00080008).intoArray(dst, p);
            x.lanewise(LSHR, 4).and(0x000F000F).sub(0x00080008).intoArray(dst, p + vs);
            x.lanewise(LSHR, 8).and(0x000F000F).sub(0x00080008).intoArray(dst, p + 2 * vs);
            x.lanewise(LSHR, 12).and(0x000F000F).sub(0x00080008).intoArray(dst, p + 3 * vs);
        }
    }

    /**
     * Q8_0 {@link Repacked} group (scales at {@code group}, words after them) widened to floats: word {@code s} gives,
     * in lane {@code j}, the pair {@code lo + hi·2¹⁶} of values {@code 2s, 2s+1} of block {@code j}; they go to
     * {@code dst[o + 32s + j]} and {@code dst[o + 32s + 16 + j]}, times the block's scale.
     */
    static void widenQ8Group(MemorySegment d, long group, float[] dst, int o) {
        if (!WIDE) {
            PackedIntDot256.widenQ8Group(d, group, dst, o);
            return;
        }
        FloatVector sc = halves(d, group).mul(HALF_UNSCALE);
        for (int s = 0; s < 16; s++) {
            IntVector v = ((ShortVector) ByteVector.fromMemorySegment(B256, d, group + Repacked.SCALE_BYTES + 32L * s, LE)
                    .convertShape(VectorOperators.B2S, S512, 0)).reinterpretAsInts();
            IntVector lo = v.lanewise(LSHL, 16).lanewise(ASHR, 16);
            ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, o + 32 * s);
            ((FloatVector) v.sub(lo).lanewise(ASHR, 16).convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, o + 32 * s + 16);
        }
    }
}
