package dev.nemotron4j.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@link Repacked} layout of Q6_K rows for the integer decode kernels ({@link PackedIntDot#dotQ6Words}): GGUF's
 * super-blocks of 256 six-bit values in the same 210 bytes each, the values moved so that each vector of value pairs
 * is one or two shifts and masks of 32-bit words away, instead of put together from nibbles and two-bit fields and
 * widened to shorts as in {@link Q6Groups} (five operations and a widening a vector).
 *
 * <p>With 8 int lanes (AVX2) the {@link Q6Groups} kernel was bound by its instructions, a third of a 4B Q4_0 model's
 * decode time; with 16 it read 33 GB/s where the Q4_0 kernel read 54 (bench/NOTES.md, steps 69 and 70).
 *
 * <p>A super-block is three words of 16 int lanes ({@code W0, W1, W2} at bytes 0, 64, 128; lane {@code g} at
 * {@code 4g}), then GGUF's 16 scales (bytes 192–207) and half-precision factor (208–209). Lane {@code g} is scale group
 * {@code g}: its 16 values form the pairs {@code Pk = (v[16g + 2k], v[16g + 2k + 1])}, {@code k} = 0‥7, each pair at bit
 * {@code b} (first value) and {@code b + 16} (second) of its word:
 *
 * <pre>
 *   W0: P0 at bit 0, P1 at bit 6, P2's low four bits at bit 12
 *   W1: P3 at bit 0, P4 at bit 6, P5's low four bits at bit 12
 *   W2: P6 at bit 0, P7 at bit 6, P2's top two bits at bit 12, P5's at bit 14
 * </pre>
 *
 * So {@code (W >>> s) & 0x003F003F} is a vector of pairs, lane {@code g} the pair of group {@code g}: the same vectors,
 * in the same order, as {@link Q6Groups}'s widened bytes, which {@link Int8Activations} lays out activations for
 * ({@code q6Groups} order), and the same integer sums. With 8 lanes a kernel reads each word in two halves (groups
 * 0‥7, then 8‥15).
 */
final class Q6Words {
    /** Bytes of one super-block, as in GGUF. */
    static final int SUPER_BLOCK_BYTES = Q6Groups.SUPER_BLOCK_BYTES;

    /**
     * Whether {@link Repacked} copies Q6_K matrices into this layout; {@code -Dn4j.q6Groups=true} keeps {@link
     * Q6Groups}, for A/B.
     */
    static final boolean USED = !Boolean.getBoolean("n4j.q6Groups");

    private Q6Words() {
    }

    /**
     * Copies a GGUF Q6_K row of {@code superBlocks} super-blocks from {@code src} at {@code off} into this layout at
     * {@code dst}, {@code dOff}, through the heap (see {@link Q6Groups#repackRow}).
     */
    static void repackRow(MemorySegment src, long off, MemorySegment dst, long dOff, int superBlocks) {
        int bytes = SUPER_BLOCK_BYTES * superBlocks;
        byte[][] b = Q6Groups.rows(bytes);
        byte[] in = b[0], out = b[1];
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, off, in, 0, bytes);
        int[] v = new int[16];
        for (int s = 0; s < superBlocks; s++) {
            int base = SUPER_BLOCK_BYTES * s;
            for (int g = 0; g < 16; g++) {
                for (int i = 0; i < 16; i++) v[i] = Q6Groups.ggufValue(in, base, 16 * g + i);
                int w0 = pair(v, 0, 0) | pair(v, 1, 6) | pair(v, 2, 12) & (0x000F000F << 12);
                int w1 = pair(v, 3, 0) | pair(v, 4, 6) | pair(v, 5, 12) & (0x000F000F << 12);
                int w2 = pair(v, 6, 0) | pair(v, 7, 6) | (pair(v, 2, 0) >>> 4 & 0x00030003) << 12
                        | (pair(v, 5, 0) >>> 4 & 0x00030003) << 14;
                int at = base + 4 * g;
                putInt(out, at, w0);
                putInt(out, at + 64, w1);
                putInt(out, at + 128, w2);
            }
            System.arraycopy(in, base + 192, out, base + 192, SUPER_BLOCK_BYTES - 192);   // scales and factor
        }
        MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dOff, bytes);
    }

    /** Pair {@code k} of a group's values {@code v}, its first value at bit {@code bit}, its second 16 bits above. */
    private static int pair(int[] v, int k, int bit) {
        return (v[2 * k] | v[2 * k + 1] << 16) << bit;
    }

    private static void putInt(byte[] b, int at, int w) {
        for (int k = 0; k < 4; k++) b[at + k] = (byte) (w >>> 8 * k);
    }

    private static int getInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    /** The six-bit value (0‥63) at column {@code c} (0‥255) of the super-block at {@code base} in this layout. */
    static int value(byte[] sb, int base, int c) {
        int g = c / 16, k = c % 16 / 2, e = c % 2, at = base + 4 * g;
        int w0 = getInt(sb, at), w1 = getInt(sb, at + 64), w2 = getInt(sb, at + 128), half = 16 * e;
        return switch (k) {
            case 0 -> w0 >>> half & 0x3F;
            case 1 -> w0 >>> 6 + half & 0x3F;
            case 2 -> (w0 >>> 12 + half & 0xF) | (w2 >>> 12 + half & 3) << 4;
            case 3 -> w1 >>> half & 0x3F;
            case 4 -> w1 >>> 6 + half & 0x3F;
            case 5 -> (w1 >>> 12 + half & 0xF) | (w2 >>> 14 + half & 3) << 4;
            case 6 -> w2 >>> half & 0x3F;
            default -> w2 >>> 6 + half & 0x3F;
        };
    }
}
