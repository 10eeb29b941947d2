package dev.nemotron4j.loader.gguf;

import dev.nemotron4j.loader.tensor.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Scalar reference codecs for GGUF's block formats: the definition the SIMD kernels are tested against, and what
 * {@code quantize} writes with. Layouts (little-endian):
 * <ul>
 * <li>Q8_0, 32 values in 34 bytes: F16 scale d, 32 × int8 q; x = d·q. d = max|x| / 127.</li>
 * <li>Q4_0, 32 values in 18 bytes: F16 scale d, 16 bytes; byte j holds value j in its low nibble and value j+16 in
 * its high nibble; x = d·(nibble − 8). d = (the value of largest magnitude) / −8.</li>
 * <li>Q6_K, 256 values in 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits), 16 × int8 sub-block scales,
 * F16 super-scale d; x = d·scale[sub]·(q − 32) with q a 6-bit value (see {@link #dequantizeQ6K}).</li>
 * </ul>
 */
public final class QuantCodec {
    private QuantCodec() {
    }

    /** Dequantizes {@code n} values (whole blocks) starting at {@code buf}'s position. */
    public static void dequantize(DType type, ByteBuffer buf, float[] out, int off, int n) {
        ByteBuffer b = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case Q8_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int base = blk * 34;
                    float d = Float.float16ToFloat(b.getShort(base));
                    for (int i = 0; i < 32; i++) out[off + blk * 32 + i] = d * b.get(base + 2 + i);
                }
            }
            case Q4_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int base = blk * 18;
                    float d = Float.float16ToFloat(b.getShort(base));
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(base + 2 + j) & 0xFF;
                        out[off + blk * 32 + j] = d * ((q & 0x0F) - 8);
                        out[off + blk * 32 + j + 16] = d * ((q >>> 4) - 8);
                    }
                }
            }
            case Q6_K -> {
                for (int blk = 0; blk < n / 256; blk++) dequantizeQ6K(b, blk * 210, out, off + blk * 256);
            }
            default -> throw new IllegalArgumentException("not a block type: " + type);
        }
    }

    /** One Q6_K super-block at {@code base} of {@code b} into {@code out[o .. o+256)}. */
    static void dequantizeQ6K(ByteBuffer b, int base, float[] out, int o) {
        float d = Float.float16ToFloat(b.getShort(base + 208));
        for (int half = 0; half < 2; half++) {
            int ql = base + half * 64, qh = base + 128 + half * 32, sc = base + 192 + half * 8, y = o + half * 128;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int lo0 = b.get(ql + l) & 0xFF, lo1 = b.get(ql + l + 32) & 0xFF, hi = b.get(qh + l) & 0xFF;
                int q1 = ((lo0 & 0xF) | ((hi & 3) << 4)) - 32;
                int q2 = ((lo1 & 0xF) | (((hi >> 2) & 3) << 4)) - 32;
                int q3 = ((lo0 >> 4) | (((hi >> 4) & 3) << 4)) - 32;
                int q4 = ((lo1 >> 4) | (((hi >> 6) & 3) << 4)) - 32;
                out[y + l] = d * b.get(sc + is) * q1;
                out[y + l + 32] = d * b.get(sc + is + 2) * q2;
                out[y + l + 64] = d * b.get(sc + is + 4) * q3;
                out[y + l + 96] = d * b.get(sc + is + 6) * q4;
            }
        }
    }

    /** Quantizes {@code n} values (whole blocks) of {@code x} into {@code out} at its position. */
    public static void quantize(DType type, float[] x, int off, int n, ByteBuffer out) {
        ByteBuffer b = out.order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case Q8_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int s = off + blk * 32;
                    float amax = 0;
                    for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[s + i]));
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    b.putShort(Float.floatToFloat16(d));
                    for (int i = 0; i < 32; i++) b.put((byte) Math.round(x[s + i] * id));
                }
            }
            case Q4_0 -> {
                for (int blk = 0; blk < n / 32; blk++) {
                    int s = off + blk * 32;
                    float amax = 0, max = 0;
                    for (int i = 0; i < 32; i++) {
                        if (Math.abs(x[s + i]) > amax) {
                            amax = Math.abs(x[s + i]);
                            max = x[s + i];
                        }
                    }
                    float d = max / -8f;
                    float id = d != 0 ? 1f / d : 0f;
                    b.putShort(Float.floatToFloat16(d));
                    for (int j = 0; j < 16; j++) {
                        int q0 = Math.min(15, (int) (x[s + j] * id + 8.5f));
                        int q1 = Math.min(15, (int) (x[s + j + 16] * id + 8.5f));
                        b.put((byte) (q0 | (q1 << 4)));
                    }
                }
            }
            case Q6_K -> {
                for (int blk = 0; blk < n / 256; blk++) quantizeQ6K(x, off + blk * 256, b);
            }
            default -> throw new IllegalArgumentException("not a block type: " + type);
        }
    }

    /** Q6_K with one scale per 16 values chosen from their largest magnitude (a simple, round-to-nearest encoder). */
    private static void quantizeQ6K(float[] x, int s, ByteBuffer b) {
        float[] scales = new float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int sub = 0; sub < 16; sub++) {
            float amax = 0, max = 0;
            for (int i = 0; i < 16; i++) {
                float v = x[s + sub * 16 + i];
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            scales[sub] = max / -32f;
            if (Math.abs(scales[sub]) > maxAbsScale) {
                maxAbsScale = Math.abs(scales[sub]);
                maxScale = scales[sub];
            }
        }
        float d = maxScale / -128f;
        float id = d != 0 ? 1f / d : 0f;
        byte[] sc = new byte[16];
        int[] q = new int[256];
        for (int sub = 0; sub < 16; sub++) {
            int is = Math.max(-128, Math.min(127, Math.round(id * scales[sub])));
            sc[sub] = (byte) is;
            float ds = Float.float16ToFloat(Float.floatToFloat16(d)) * is;
            for (int i = 0; i < 16; i++) {
                int v = ds == 0 ? 0 : Math.round(x[s + sub * 16 + i] / ds);
                q[sub * 16 + i] = Math.max(-32, Math.min(31, v)) + 32;
            }
        }
        byte[] ql = new byte[128], qh = new byte[64];
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int y = half * 128;
                int q1 = q[y + l], q2 = q[y + l + 32], q3 = q[y + l + 64], q4 = q[y + l + 96];
                ql[half * 64 + l] = (byte) ((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[half * 64 + l + 32] = (byte) ((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[half * 32 + l] = (byte) ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
        b.put(ql).put(qh).put(sc).putShort(Float.floatToFloat16(d));
    }
}
