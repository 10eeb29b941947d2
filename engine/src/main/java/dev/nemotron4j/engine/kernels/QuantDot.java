package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.engine.kernels.VectorDot.F;
import static dev.nemotron4j.engine.kernels.VectorDot.I16;
import static dev.nemotron4j.engine.kernels.VectorDot.LANES;
import static dev.nemotron4j.engine.kernels.VectorDot.LE;

/**
 * Dot products and dequantization for GGUF block formats, read in place (layouts in
 * {@code dev.nemotron4j.loader.gguf.QuantCodec}). Bytes are widened to floats a vector at a time: a byte vector of
 * {@code LANES} lanes converts to exactly one float vector. x86 has no 8-bit shifts, so nibbles and 2-bit fields are
 * taken apart in 32-bit lanes (bytes zero-extended to ints, shifted and masked, then converted to floats). Without a
 * suitable byte shape (4-lane float vectors) the scalar path is used.
 *
 * <p>Performance note: the vector expressions are written out inside the loops on purpose. Small helpers that
 * return vectors get compiled on their own first and are then too big to inline, and every call boxes a vector
 * (bench/NOTES.md, step 5).
 */
final class QuantDot {
    static final VectorSpecies<Byte> B = LANES >= 8 && 16 % LANES == 0
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * 8)) : null;

    private QuantDot() {
    }

    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());




    private static float f16(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(I16, off));
    }

    private static byte u8(MemorySegment w, long off) {
        return w.get(ValueLayout.JAVA_BYTE, off);
    }

    static float dotQ8_0(MemorySegment w, long off, float[] x, int xOff, int n) {
        int blocks = n / 32;
        if (B == null) {
            float s = 0;
            for (int b = 0; b < blocks; b++) {
                long o = off + 34L * b;
                float d = f16(w, o), part = 0;
                for (int i = 0; i < 32; i++) part += u8(w, o + 2 + i) * x[xOff + 32 * b + i];
                s += d * part;
            }
            return s;
        }
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long o = off + 34L * b;
            int xb = xOff + 32 * b;
            FloatVector part = FloatVector.zero(F);
            for (int j = 0; j < 32; j += LANES) {
                part = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE).convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + j), part);
            }
            acc = part.fma(FloatVector.broadcast(F, f16(w, o)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ4_0(MemorySegment w, long off, float[] x, int xOff, int n) {
        int blocks = n / 32;
        if (B == null) {
            float s = 0;
            for (int b = 0; b < blocks; b++) {
                long o = off + 18L * b;
                float part = 0;
                for (int j = 0; j < 16; j++) {
                    int q = u8(w, o + 2 + j) & 0xFF;
                    part += ((q & 0xF) - 8) * x[xOff + 32 * b + j] + ((q >>> 4) - 8) * x[xOff + 32 * b + j + 16];
                }
                s += f16(w, o) * part;
            }
            return s;
        }
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long o = off + 18L * b;
            int xb = xOff + 32 * b;
            FloatVector part = FloatVector.zero(F);
            for (int j = 0; j < 16; j += LANES) {
                IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
                part = ((FloatVector) q.and(0xF).sub(8).convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + j), part);
                part = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + j + 16), part);
            }
            acc = part.fma(FloatVector.broadcast(F, f16(w, o)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotQ6K(MemorySegment w, long off, float[] x, int xOff, int n) {
        int blocks = n / 256;
        if (B == null) {
            float[] tmp = new float[256];
            float s = 0;
            for (int b = 0; b < blocks; b++) {
                dequantQ6K(w, off + 210L * b, tmp, 0);
                for (int i = 0; i < 256; i++) s += tmp[i] * x[xOff + 256 * b + i];
            }
            return s;
        }
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = off + 210L * b;
            float d = f16(w, base + 208);
            for (int half = 0; half < 2; half++) {
                long ql = base + half * 64, qh = base + 128 + half * 32, sc = base + 192 + half * 8;
                int y = xOff + 256 * b + half * 128;
                for (int l = 0; l < 32; l += LANES) {
                    int is = l / 16;
                    IntVector a = ((IntVector) ByteVector.fromMemorySegment(B, w, ql + l, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF), c = ((IntVector) ByteVector.fromMemorySegment(B, w, ql + l + 32, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF), h = ((IntVector) ByteVector.fromMemorySegment(B, w, qh + l, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
                    acc = ((FloatVector) a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * u8(w, sc + is)).fma(FloatVector.fromArray(F, x, y + l), acc);
                    acc = ((FloatVector) c.and(0xF).or(h.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * u8(w, sc + is + 2))
                            .fma(FloatVector.fromArray(F, x, y + l + 32), acc);
                    acc = ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0))
                            .mul(d * u8(w, sc + is + 4)).fma(FloatVector.fromArray(F, x, y + l + 64), acc);
                    acc = ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0))
                            .mul(d * u8(w, sc + is + 6)).fma(FloatVector.fromArray(F, x, y + l + 96), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Dequantizes one Q6_K super-block (scalar; used by the fallback and by row dequantization). */
    static void dequantQ6K(MemorySegment w, long base, float[] out, int o) {
        float d = f16(w, base + 208);
        for (int half = 0; half < 2; half++) {
            long ql = base + half * 64, qh = base + 128 + half * 32, sc = base + 192 + half * 8;
            int y = o + half * 128;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int lo0 = u8(w, ql + l) & 0xFF, lo1 = u8(w, ql + l + 32) & 0xFF, hi = u8(w, qh + l) & 0xFF;
                out[y + l] = d * u8(w, sc + is) * (((lo0 & 0xF) | ((hi & 3) << 4)) - 32);
                out[y + l + 32] = d * u8(w, sc + is + 2) * (((lo1 & 0xF) | (((hi >> 2) & 3) << 4)) - 32);
                out[y + l + 64] = d * u8(w, sc + is + 4) * (((lo0 >> 4) | (((hi >> 4) & 3) << 4)) - 32);
                out[y + l + 96] = d * u8(w, sc + is + 6) * (((lo1 >> 4) | (((hi >> 6) & 3) << 4)) - 32);
            }
        }
    }

    static void dequantQ8_0(MemorySegment w, long off, float[] dst, int dstOff, int n) {
        if (B != null) {
            for (int b = 0; b < n / 32; b++) {
                long o = off + 34L * b;
                FloatVector d = FloatVector.broadcast(F, f16(w, o));
                for (int j = 0; j < 32; j += LANES) {
                    ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, dstOff + 32 * b + j);
                }
            }
            return;
        }
        for (int b = 0; b < n / 32; b++) {
            long o = off + 34L * b;
            float d = f16(w, o);
            for (int i = 0; i < 32; i++) dst[dstOff + 32 * b + i] = d * u8(w, o + 2 + i);
        }
    }

    static void dequantQ4_0(MemorySegment w, long off, float[] dst, int dstOff, int n) {
        if (B != null) {
            for (int b = 0; b < n / 32; b++) {
                long o = off + 18L * b;
                FloatVector d = FloatVector.broadcast(F, f16(w, o));
                for (int j = 0; j < 16; j += LANES) {
                    IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
                    ((FloatVector) q.and(0xF).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(dst, dstOff + 32 * b + j);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d)
                            .intoArray(dst, dstOff + 32 * b + j + 16);
                }
            }
            return;
        }
        for (int b = 0; b < n / 32; b++) {
            long o = off + 18L * b;
            float d = f16(w, o);
            for (int j = 0; j < 16; j++) {
                int q = u8(w, o + 2 + j) & 0xFF;
                dst[dstOff + 32 * b + j] = d * ((q & 0xF) - 8);
                dst[dstOff + 32 * b + j + 16] = d * ((q >>> 4) - 8);
            }
        }
    }

    static void dequantQ6KRow(MemorySegment w, long off, float[] dst, int dstOff, int n) {
        if (B == null) {
            for (int b = 0; b < n / 256; b++) dequantQ6K(w, off + 210L * b, dst, dstOff + 256 * b);
            return;
        }
        for (int b = 0; b < n / 256; b++) {
            long base = off + 210L * b;
            float d = f16(w, base + 208);
            for (int half = 0; half < 2; half++) {
                long ql = base + half * 64, qh = base + 128 + half * 32, sc = base + 192 + half * 8;
                int y = dstOff + 256 * b + half * 128;
                for (int l = 0; l < 32; l += LANES) {
                    int is = l / 16;
                    IntVector a = ((IntVector) ByteVector.fromMemorySegment(B, w, ql + l, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF), c = ((IntVector) ByteVector.fromMemorySegment(B, w, ql + l + 32, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF), h = ((IntVector) ByteVector.fromMemorySegment(B, w, qh + l, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
                    ((FloatVector) a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * u8(w, sc + is)).intoArray(dst, y + l);
                    ((FloatVector) c.and(0xF).or(h.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * u8(w, sc + is + 2)).intoArray(dst, y + l + 32);
                    ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * u8(w, sc + is + 4))
                            .intoArray(dst, y + l + 64);
                    ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * u8(w, sc + is + 6))
                            .intoArray(dst, y + l + 96);
                }
            }
        }
    }
}
