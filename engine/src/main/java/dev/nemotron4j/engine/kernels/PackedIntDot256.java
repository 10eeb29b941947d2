package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.nemotron4j.engine.kernels.VectorDot.I16;
import static dev.nemotron4j.engine.kernels.VectorDot.LE;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

/**
 * {@link PackedIntDot}'s kernels for {@link Repacked} Q4_0, Q8_0 and Q6_K copies with 256-bit vectors (AVX2: eight int
 * lanes, 16 registers), which {@link PackedIntDot} hands its work to where the machine's vectors are that wide.
 *
 * <p>The copies keep the one layout built for 16 lanes (one block, or Q6_K scale group, per int lane; 16 a group):
 * here every 16-lane vector of it is taken as two halves, lanes 0‥7 then 8‥15, each with the scales and activation
 * sums of its own eight blocks. The arithmetic is the same identity with the same bounds per lane (see {@link
 * PackedIntDot}), so the integer sums are the same and only the order of the float additions differs. Without these
 * an AVX2 machine ran Q4_0 files on the float kernels of {@link QuantDot} at a quarter of llama.cpp's decode speed
 * (bench/NOTES.md, step 63).
 *
 * <p>Written out as {@link PackedIntDot} is, for the same reasons (C2 keeps vectors in registers only as locals,
 * and a helper returning a vector boxes it where it is not inlined); the two halves are a loop of two.
 */
final class PackedIntDot256 {
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final float INV_65536 = 1f / 65536;
    /** {@link #halves} leaves its scales 2¹¹² too small, as {@link PackedIntDot#halves} does. */
    private static final float HALF_UNSCALE = 0x1p112f;

    private PackedIntDot256() {
    }

    /** The eight half-precision numbers at {@code off} as floats 2¹¹² too small (see {@link PackedIntDot#halves}). */
    static FloatVector halves(MemorySegment d, long off) {
        return ((IntVector) ShortVector.fromMemorySegment(S128, d, off, LE).convertShape(VectorOperators.S2I, I8, 0))
                .lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats();
    }

    /** As {@link PackedIntDot#dotQ4Pairs}: {@code pairs} stored Q4_0 pairs of one slab, each half a group at a time. */
    static void dotQ4Pairs(MemorySegment d, long off, int pairs, Int8Activations a, int x0, int groups, float[] out, int o) {
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector accA = FloatVector.zero(F8), accB = accA;
        int g0 = x0 / Repacked.GROUP, g = 0;
        // groups counted in an int, as in dotQ8Rows
        for (int i = 0, n = groups * pairs; i < n; i++) {
            long ca = off + Repacked.Q4_PAIR_GROUP * i, cb = ca + Repacked.SCALE_BYTES;
            long wa = cb + Repacked.SCALE_BYTES, wb = wa + Repacked.Q4_WORD_BYTES;
            int p0 = (g0 + g) * 256, k0 = (g0 + g) * 16;
            for (int h = 0; h < 2; h++) {
                int p = p0 + 8 * h;
                long ha = wa + 32 * h, hb = wb + 32 * h;
                IntVector sa0 = IntVector.zero(I8), sa1 = sa0, sb0 = sa0, sb1 = sa0;
                IntVector x;
                IntVector a0 = IntVector.fromMemorySegment(I8, d, ha, LE);
                IntVector b0 = IntVector.fromMemorySegment(I8, d, hb, LE);
                x = IntVector.fromArray(I8, xp, p);
                sa0 = sa0.add(a0.and(0x000F000F).mul(x));
                sb0 = sb0.add(b0.and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 16);
                sa1 = sa1.add(a0.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                sb1 = sb1.add(b0.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 32);
                sa0 = sa0.add(a0.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                sb0 = sb0.add(b0.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 48);
                sa1 = sa1.add(a0.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                sb1 = sb1.add(b0.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                IntVector a1 = IntVector.fromMemorySegment(I8, d, ha + 64, LE);
                IntVector b1 = IntVector.fromMemorySegment(I8, d, hb + 64, LE);
                x = IntVector.fromArray(I8, xp, p + 64);
                sa0 = sa0.add(a1.and(0x000F000F).mul(x));
                sb0 = sb0.add(b1.and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 80);
                sa1 = sa1.add(a1.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                sb1 = sb1.add(b1.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 96);
                sa0 = sa0.add(a1.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                sb0 = sb0.add(b1.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 112);
                sa1 = sa1.add(a1.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                sb1 = sb1.add(b1.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                IntVector a2 = IntVector.fromMemorySegment(I8, d, ha + 128, LE);
                IntVector b2 = IntVector.fromMemorySegment(I8, d, hb + 128, LE);
                x = IntVector.fromArray(I8, xp, p + 128);
                sa0 = sa0.add(a2.and(0x000F000F).mul(x));
                sb0 = sb0.add(b2.and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 144);
                sa1 = sa1.add(a2.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                sb1 = sb1.add(b2.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 160);
                sa0 = sa0.add(a2.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                sb0 = sb0.add(b2.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 176);
                sa1 = sa1.add(a2.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                sb1 = sb1.add(b2.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                IntVector a3 = IntVector.fromMemorySegment(I8, d, ha + 192, LE);
                IntVector b3 = IntVector.fromMemorySegment(I8, d, hb + 192, LE);
                x = IntVector.fromArray(I8, xp, p + 192);
                sa0 = sa0.add(a3.and(0x000F000F).mul(x));
                sb0 = sb0.add(b3.and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 208);
                sa1 = sa1.add(a3.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                sb1 = sb1.add(b3.lanewise(LSHR, 4).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 224);
                sa0 = sa0.add(a3.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                sb0 = sb0.add(b3.lanewise(LSHR, 8).and(0x000F000F).mul(x));
                x = IntVector.fromArray(I8, xp, p + 240);
                sa1 = sa1.add(a3.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                sb1 = sb1.add(b3.lanewise(LSHR, 12).and(0x000F000F).mul(x));
                int k = k0 + 8 * h;
                FloatVector xsk = FloatVector.fromArray(F8, xs, k).mul(HALF_UNSCALE), xck = FloatVector.fromArray(F8, xc, k);
                IntVector sca = (IntVector) ShortVector.fromMemorySegment(S128, d, ca + 16 * h, LE).convertShape(VectorOperators.S2I, I8, 0);
                IntVector scb = (IntVector) ShortVector.fromMemorySegment(S128, d, cb + 16 * h, LE).convertShape(VectorOperators.S2I, I8, 0);
                accA = ((FloatVector) sa0.convert(VectorOperators.I2F, 0)).add((FloatVector) sa1.convert(VectorOperators.I2F, 0))
                        .sub(xck).fma(sca.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(xsk), accA);
                accB = ((FloatVector) sb0.convert(VectorOperators.I2F, 0)).add((FloatVector) sb1.convert(VectorOperators.I2F, 0))
                        .sub(xck).fma(scb.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(xsk), accB);
            }
            if (++g == groups) {   // the pair's last group: its two sums out, on to the next pair
                out[o] += accA.reduceLanes(VectorOperators.ADD) * INV_65536;
                out[o + 1] += accB.reduceLanes(VectorOperators.ADD) * INV_65536;
                o += 2;
                g = 0;
                accA = FloatVector.zero(F8);
                accB = accA;
            }
        }
    }

    /** As {@link PackedIntDot#dotQ4Repacked}: one row of a Q4_0 copy (a matrix's odd last row). */
    static float dotQ4Repacked(MemorySegment d, long off, long words, Int8Activations a, int x0, int groups) {
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector acc = FloatVector.zero(F8);
        int g0 = x0 / Repacked.GROUP;
        for (int g = 0; g < groups; g++) {
            long scales = off + Repacked.q4Scales(g), base = words + Repacked.Q4_PAIR_GROUP * g;
            for (int h = 0; h < 2; h++) {
                int p = (g0 + g) * 256 + 8 * h;
                IntVector s0 = IntVector.zero(I8), s1 = s0;
                for (int i = 0; i < 4; i++) {
                    IntVector w = IntVector.fromMemorySegment(I8, d, base + 64L * i + 32 * h, LE);
                    int q = p + 64 * i;
                    s0 = s0.add(w.and(0x000F000F).mul(IntVector.fromArray(I8, xp, q)));
                    s1 = s1.add(w.lanewise(LSHR, 4).and(0x000F000F).mul(IntVector.fromArray(I8, xp, q + 16)));
                    s0 = s0.add(w.lanewise(LSHR, 8).and(0x000F000F).mul(IntVector.fromArray(I8, xp, q + 32)));
                    s1 = s1.add(w.lanewise(LSHR, 12).and(0x000F000F).mul(IntVector.fromArray(I8, xp, q + 48)));
                }
                int k = (g0 + g) * 16 + 8 * h;
                IntVector sc = (IntVector) ShortVector.fromMemorySegment(S128, d, scales + 16 * h, LE).convertShape(VectorOperators.S2I, I8, 0);
                acc = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).add((FloatVector) s1.convert(VectorOperators.I2F, 0))
                        .sub(FloatVector.fromArray(F8, xc, k))
                        .fma(sc.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats().mul(FloatVector.fromArray(F8, xs, k).mul(HALF_UNSCALE)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD) * INV_65536;
    }

    /**
     * As {@link PackedIntDot#dotQ8Rows}: {@code rows} consecutive rows of one slab of a Q8_0 copy. The loop counts
     * groups in an int and the sixteen words of a half group are written out: with a long offset as the loop variable
     * and the words in a loop of eight, C2 split that loop into pre-, main and post-loops with range-check set-up
     * around them for every half group, and on Zen 3 the kernel ran 16 % slower (bench/NOTES.md, step 76).
     */
    static void dotQ8Rows(MemorySegment d, long off, int rows, Int8Activations a, int x0, int groups, float[] out, int o) {
        int[] xp = a.packed;
        float[] xs = a.scale;
        FloatVector acc = FloatVector.zero(F8);
        int g0 = x0 / Repacked.GROUP, g = 0;
        for (int i = 0, n = groups * rows; i < n; i++) {
            long sc0 = off + Repacked.Q8_GROUP_BYTES * i, base = sc0 + Repacked.SCALE_BYTES;
            for (int h = 0; h < 2; h++) {
                int p = (g0 + g) * 256 + 8 * h;
                long wh = base + 16 * h;
                IntVector s0 = IntVector.zero(I8), s1 = s0;
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 32, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 16)).add(0x8000).lanewise(ASHR, 16));
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 64, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 32)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 96, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 48)).add(0x8000).lanewise(ASHR, 16));
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 128, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 64)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 160, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 80)).add(0x8000).lanewise(ASHR, 16));
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 192, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 96)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 224, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 112)).add(0x8000).lanewise(ASHR, 16));
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 256, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 128)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 288, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 144)).add(0x8000).lanewise(ASHR, 16));
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 320, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 160)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 352, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 176)).add(0x8000).lanewise(ASHR, 16));
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 384, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 192)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 416, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 208)).add(0x8000).lanewise(ASHR, 16));
                s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 448, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 224)).add(0x8000).lanewise(ASHR, 16));
                s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B128, d, wh + 480, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .reinterpretAsInts().mul(IntVector.fromArray(I8, xp, p + 240)).add(0x8000).lanewise(ASHR, 16));
                IntVector sc = (IntVector) ShortVector.fromMemorySegment(S128, d, sc0 + 16 * h, LE).convertShape(VectorOperators.S2I, I8, 0);
                acc = ((FloatVector) s0.add(s1).convert(VectorOperators.I2F, 0))
                        .fma(sc.lanewise(LSHL, 13).and(0x8FFFFFFF).reinterpretAsFloats()
                                .mul(FloatVector.fromArray(F8, xs, (g0 + g) * 16 + 8 * h).mul(HALF_UNSCALE)), acc);
            }
            if (++g == groups) {   // the row's last group: its sum out, on to the next row
                out[o++] += acc.reduceLanes(VectorOperators.ADD);
                acc = FloatVector.zero(F8);
                g = 0;
            }
        }
    }

    /**
     * As {@link PackedIntDot#dotQ6Groups}: {@code rows} consecutive rows of a {@link Q6Groups} copy; a half of each
     * extracted vector holds scale groups 0‥7, the other 8‥15, each half with its eight scales.
     */
    static void dotQ6Groups(MemorySegment w, long off, int rows, Int8Activations a, int x0, int n, float[] out, int o) {
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector acc = FloatVector.zero(F8), corr = FloatVector.zero(F8);
        int blocks = n / 256, b = 0;
        long base = off;
        for (int i = 0, total = rows * blocks; i < total; i++, base += Q6Groups.SUPER_BLOCK_BYTES) {
            int e0 = x0 + 256 * b;
            float d = Float.float16ToFloat(w.get(I16, base + 208)) * xs[e0 >> 8];
            for (int h = 0; h < 2; h++) {
                int p = (e0 >> 1) + 8 * h;
                long q = base + 16 * h;
                FloatVector sv = ((FloatVector) ByteVector.fromMemorySegment(B64, w, base + 192 + 8 * h, LE)
                        .convertShape(VectorOperators.B2F, F8, 0)).mul(d);
                corr = sv.fma(FloatVector.fromArray(F8, xc, (e0 >> 4) + 8 * h), corr);
                ByteVector ql0 = ByteVector.fromMemorySegment(B128, w, q, LE);
                ByteVector ql1 = ByteVector.fromMemorySegment(B128, w, q + 32, LE);
                ByteVector qh = ByteVector.fromMemorySegment(B128, w, q + 128, LE);
                IntVector p0 = ((IntVector) ql0.and((byte) 0x0F)
                        .or(qh.reinterpretAsInts().lanewise(LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p));
                IntVector p1 = ((IntVector) ql1.and((byte) 0x0F)
                        .or(qh.reinterpretAsInts().lanewise(LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p + 16));
                IntVector p2 = ((IntVector) ql0.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .or(qh.and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p + 32));
                IntVector p3 = ((IntVector) ql1.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .or(qh.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p + 48));
                FloatVector sum = ((FloatVector) p0.add(p1).convert(VectorOperators.I2F, 0))
                        .add((FloatVector) p2.add(p3).convert(VectorOperators.I2F, 0));
                ByteVector ql2 = ByteVector.fromMemorySegment(B128, w, q + 64, LE);
                ByteVector ql3 = ByteVector.fromMemorySegment(B128, w, q + 96, LE);
                ByteVector qh1 = ByteVector.fromMemorySegment(B128, w, q + 160, LE);
                IntVector p4 = ((IntVector) ql2.and((byte) 0x0F)
                        .or(qh1.reinterpretAsInts().lanewise(LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p + 64));
                IntVector p5 = ((IntVector) ql3.and((byte) 0x0F)
                        .or(qh1.reinterpretAsInts().lanewise(LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p + 80));
                IntVector p6 = ((IntVector) ql2.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .or(qh1.and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p + 96));
                IntVector p7 = ((IntVector) ql3.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .or(qh1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                        .convertShape(VectorOperators.B2S, S256, 0).reinterpretAsInts()).mul(IntVector.fromArray(I8, xp, p + 112));
                sum = sum.add(((FloatVector) p4.add(p5).convert(VectorOperators.I2F, 0))
                        .add((FloatVector) p6.add(p7).convert(VectorOperators.I2F, 0)));
                acc = sum.fma(sv, acc);
            }
            if (++b == blocks) {   // the row's last super-block: its sum out, on to the next row
                out[o++] += acc.reduceLanes(VectorOperators.ADD) * INV_65536 - corr.reduceLanes(VectorOperators.ADD);
                acc = corr = FloatVector.zero(F8);
                b = 0;
            }
        }
    }

    /** As {@link PackedIntDot#dotQ6Words}: each word in two halves, groups 0‥7 then 8‥15, each with its scales. */
    static void dotQ6Words(MemorySegment w, long off, int rows, Int8Activations a, int x0, int n, float[] out, int o) {
        int[] xp = a.packed;
        float[] xs = a.scale, xc = a.corr;
        FloatVector acc = FloatVector.zero(F8), corr = FloatVector.zero(F8);
        int blocks = n / 256, b = 0;
        long base = off;
        for (int i = 0, total = rows * blocks; i < total; i++, base += Q6Words.SUPER_BLOCK_BYTES) {
            int e0 = x0 + 256 * b;
            float d = 0;
            for (int h = 0; h < 2; h++) {
                int p = (e0 >> 1) + 8 * h;
                long q = base + 32 * h;
                IntVector w0 = IntVector.fromMemorySegment(I8, w, q, LE);
                IntVector w1 = IntVector.fromMemorySegment(I8, w, q + 64, LE);
                IntVector w2 = IntVector.fromMemorySegment(I8, w, q + 128, LE);
                // the factor, at the super-block's end, read after the first half's words: read first, the Q6_K
                // output layer took 10 % longer (bench/NOTES.md, step 75)
                if (h == 0) d = Float.float16ToFloat(w.get(I16, base + 208)) * xs[e0 >> 8];
                FloatVector sv = ((FloatVector) ByteVector.fromMemorySegment(B64, w, base + 192 + 8 * h, LE)
                        .convertShape(VectorOperators.B2F, F8, 0)).mul(d);
                corr = sv.fma(FloatVector.fromArray(F8, xc, (e0 >> 4) + 8 * h), corr);
                IntVector p0 = w0.and(0x003F003F).mul(IntVector.fromArray(I8, xp, p));
                IntVector p1 = w0.lanewise(LSHR, 6).and(0x003F003F).mul(IntVector.fromArray(I8, xp, p + 16));
                IntVector p2 = w0.lanewise(LSHR, 12).and(0x000F000F).or(w2.lanewise(LSHR, 8).and(0x00300030))
                        .mul(IntVector.fromArray(I8, xp, p + 32));
                IntVector p3 = w1.and(0x003F003F).mul(IntVector.fromArray(I8, xp, p + 48));
                FloatVector sum = ((FloatVector) p0.add(p1).convert(VectorOperators.I2F, 0))
                        .add((FloatVector) p2.add(p3).convert(VectorOperators.I2F, 0));
                IntVector p4 = w1.lanewise(LSHR, 6).and(0x003F003F).mul(IntVector.fromArray(I8, xp, p + 64));
                IntVector p5 = w1.lanewise(LSHR, 12).and(0x000F000F).or(w2.lanewise(LSHR, 10).and(0x00300030))
                        .mul(IntVector.fromArray(I8, xp, p + 80));
                IntVector p6 = w2.and(0x003F003F).mul(IntVector.fromArray(I8, xp, p + 96));
                IntVector p7 = w2.lanewise(LSHR, 6).and(0x003F003F).mul(IntVector.fromArray(I8, xp, p + 112));
                sum = sum.add(((FloatVector) p4.add(p5).convert(VectorOperators.I2F, 0))
                        .add((FloatVector) p6.add(p7).convert(VectorOperators.I2F, 0)));
                acc = sum.fma(sv, acc);
            }
            if (++b == blocks) {   // the row's last super-block: its sum out, on to the next row
                out[o++] += acc.reduceLanes(VectorOperators.ADD) * INV_65536 - corr.reduceLanes(VectorOperators.ADD);
                acc = corr = FloatVector.zero(F8);
                b = 0;
            }
        }
    }

    /** As {@link PackedIntDot#widenQ4Group}: lane {@code j} of a half to {@code dst[… + 8h + j]}. */
    static void widenQ4Group(MemorySegment d, long scales, long words, float[] dst, int o) {
        for (int h = 0; h < 2; h++) {
            FloatVector sc = halves(d, scales + 16 * h).mul(HALF_UNSCALE);
            for (int i = 0; i < 4; i++) {
                IntVector x = IntVector.fromMemorySegment(I8, d, words + 64L * i + 32 * h, LE);
                for (int b = 0; b < 4; b++) {
                    int p = o + 128 * i + 32 * b + 8 * h;
                    ((FloatVector) x.lanewise(LSHR, 8 * b).and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, p);
                    ((FloatVector) x.lanewise(LSHR, 8 * b + 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, p + 16);
                }
            }
        }
    }

    /** As {@link PackedIntDot#widenQ8Group}: lane {@code j} of a half to {@code dst[… + 8h + j]}. */
    static void widenQ8Group(MemorySegment d, long group, float[] dst, int o) {
        for (int h = 0; h < 2; h++) {
            FloatVector sc = halves(d, group + 16 * h).mul(HALF_UNSCALE);
            for (int s = 0; s < 16; s++) {
                IntVector v = ((ShortVector) ByteVector.fromMemorySegment(B128, d, group + Repacked.SCALE_BYTES + 32L * s + 16 * h, LE)
                        .convertShape(VectorOperators.B2S, S256, 0)).reinterpretAsInts();
                IntVector lo = v.lanewise(LSHL, 16).lanewise(ASHR, 16);
                int p = o + 32 * s + 8 * h;
                ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, p);
                ((FloatVector) v.sub(lo).lanewise(ASHR, 16).convert(VectorOperators.I2F, 0)).mul(sc).intoArray(dst, p + 16);
            }
        }
    }

    /** As {@link PackedIntDot#pairsQ4Group}: lane {@code j} of a half to {@code dst[… + 8h + j]}, its scale likewise. */
    static void pairsQ4Group(MemorySegment d, long scaleOff, long words, int[] dst, int o, int vs, float[] scales, int s) {
        for (int h = 0; h < 2; h++) {
            halves(d, scaleOff + 16 * h).mul(HALF_UNSCALE * INV_65536).intoArray(scales, s + 8 * h);
            for (int i = 0; i < 4; i++) {
                IntVector x = IntVector.fromMemorySegment(I8, d, words + 64L * i + 32 * h, LE);
                int p = o + 4 * vs * i + 8 * h;
                x.and(0x000F000F).sub(0x00080008).intoArray(dst, p);
                x.lanewise(LSHR, 4).and(0x000F000F).sub(0x00080008).intoArray(dst, p + vs);
                x.lanewise(LSHR, 8).and(0x000F000F).sub(0x00080008).intoArray(dst, p + 2 * vs);
                x.lanewise(LSHR, 12).and(0x000F000F).sub(0x00080008).intoArray(dst, p + 3 * vs);
            }
        }
    }
}
