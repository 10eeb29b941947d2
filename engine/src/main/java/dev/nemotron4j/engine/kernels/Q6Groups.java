package dev.nemotron4j.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@link Repacked} layout of Q6_K rows ("groups in the lanes") before {@link Q6Words}, which puts the same pairs in
 * the same lanes with fewer instructions and is the default; this one is kept for A/B ({@code -Dn4j.q6Groups=true}),
 * and its {@link #ggufValue} reads GGUF's super-blocks for both. GGUF's super-blocks of 256 six-bit values, the same
 * 210 bytes each, with the values moved so that the decode kernel ({@link PackedIntDot#dotQ6Groups}) gets, in int
 * lane {@code j} of each of its eight vectors, two values of scale group {@code j} (values {@code 16j..16j+15} of the
 * super-block share scale {@code j}).
 *
 * <p>GGUF's kernel gets lanes 0–7 from one group and 8–15 from the next, so it spreads the 16 scales over the lanes
 * once per vector ({@code vpermps}) and converts and scales every vector's products on its own. Here every vector's
 * lane {@code j} needs the same scale, so the products of two vectors are added as ints (they cannot overflow, see
 * {@link PackedIntDot#dotQ6Groups}), converted once, and a whole super-block takes one FMA with its 16 scales: per
 * super-block 8 rearranges, 4 conversions and 7 FMAs fewer (bench/NOTES.md, step 53).
 *
 * <p>Within a super-block the kernel extracts eight vectors of 32 bytes ({@code B0..B7}) with GGUF's own bit
 * operations (the low nibbles of {@code ql}, two bits of {@code qh} as bits 4–5): for half {@code H} of the super-block
 * ({@code k = 4H + kk}), {@code Bk} byte {@code i} has its low nibble in byte {@code 64H + 32·(kk & 1) + i} (the low
 * nibble for {@code kk < 2}, the high one otherwise) and its top two bits in bits {@code 2kk, 2kk+1} of byte
 * {@code 128 + 32H + i}. GGUF puts value {@code 32k + i} in {@code Bk[i]}; this layout puts value {@code 16j + 2k + h}
 * in {@code Bk[2j + h]}, so that {@code Bk} widened to shorts and read as ints has in lane {@code j} the pair
 * {@code (16j + 2k, 16j + 2k + 1)}: the order {@link Int8Activations} lays out activations in for this layout. The 16
 * scales (bytes 192–207) and the super-block's half-precision factor (208–209) stay where GGUF has them.
 */
final class Q6Groups {
    /** Bytes of one super-block, as in GGUF. */
    static final int SUPER_BLOCK_BYTES = 210;

    private Q6Groups() {
    }

    /**
     * The value at column {@code v} (0‥255) of a super-block in this layout is made of the nibble at byte
     * {@code NIBBLE_BYTE[v]} (shifted right by {@code NIBBLE_SHIFT[v]}) and the two bits at byte {@code HIGH_BYTE[v]}
     * (shifted right by {@code HIGH_SHIFT[v]}).
     */
    private static final int[] NIBBLE_BYTE = new int[256], NIBBLE_SHIFT = new int[256], HIGH_BYTE = new int[256],
            HIGH_SHIFT = new int[256];

    static {
        for (int k = 0; k < 8; k++) {
            int half = k / 4, kk = k % 4;
            for (int i = 0; i < 32; i++) {
                int v = 16 * (i / 2) + 2 * k + (i & 1);   // Bk[i] holds value 16j + 2k + h for i = 2j + h
                NIBBLE_BYTE[v] = 64 * half + 32 * (kk & 1) + i;
                NIBBLE_SHIFT[v] = kk < 2 ? 0 : 4;
                HIGH_BYTE[v] = 128 + 32 * half + i;
                HIGH_SHIFT[v] = 2 * kk;
            }
        }
    }

    /** Per pool thread: a source row and its repacked form, reused (by {@link Q6Words} too). */
    private static final ThreadLocal<byte[][]> ROWS = ThreadLocal.withInitial(() -> new byte[2][0]);

    /** This thread's two row buffers, grown to at least {@code bytes} each. */
    static byte[][] rows(int bytes) {
        byte[][] b = ROWS.get();
        if (b[0].length < bytes) {
            b[0] = new byte[bytes];
            b[1] = new byte[bytes];
        }
        return b;
    }

    /**
     * Copies a GGUF Q6_K row of {@code superBlocks} super-blocks from {@code src} at {@code off} into this layout at
     * {@code dst}, {@code dOff}. The row goes through the heap: per-byte accesses to the segments are checked one by
     * one (see {@link Repacked}).
     */
    static void repackRow(MemorySegment src, long off, MemorySegment dst, long dOff, int superBlocks) {
        int bytes = SUPER_BLOCK_BYTES * superBlocks;
        byte[][] b = rows(bytes);
        byte[] in = b[0], out = b[1];
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, off, in, 0, bytes);
        java.util.Arrays.fill(out, 0, bytes, (byte) 0);
        for (int s = 0; s < superBlocks; s++) {
            int base = SUPER_BLOCK_BYTES * s;
            for (int v = 0; v < 256; v++) {
                int q = ggufValue(in, base, v);
                out[base + NIBBLE_BYTE[v]] |= (byte) ((q & 0xF) << NIBBLE_SHIFT[v]);
                out[base + HIGH_BYTE[v]] |= (byte) ((q >> 4) << HIGH_SHIFT[v]);
            }
            System.arraycopy(in, base + 192, out, base + 192, SUPER_BLOCK_BYTES - 192);   // scales and factor
        }
        MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dOff, bytes);
    }

    /**
     * The six-bit value (0‥63, the weight plus 32) of column {@code v} of the GGUF super-block at {@code base}: per
     * half of 128, {@code ql} byte {@code l} holds columns {@code l} and {@code l + 64} of the half in its nibbles,
     * byte {@code l + 32} columns {@code l + 32} and {@code l + 96}, and {@code qh} byte {@code l} their top bits.
     */
    static int ggufValue(byte[] sb, int base, int v) {
        int half = v / 128, c = v % 128, quarter = c / 32, l = c % 32;
        int ql = sb[base + 64 * half + l + 32 * (quarter & 1)] & 0xFF;
        int qh = sb[base + 128 + 32 * half + l] & 0xFF;
        return ((quarter < 2 ? ql : ql >> 4) & 0xF) | ((qh >> (2 * quarter)) & 3) << 4;
    }

    /** The six-bit value (0‥63) at column {@code v} (0‥255) of the super-block at {@code base} in this layout. */
    static int value(byte[] sb, int base, int v) {
        return (sb[base + NIBBLE_BYTE[v]] >> NIBBLE_SHIFT[v] & 0xF) | (sb[base + HIGH_BYTE[v]] >> HIGH_SHIFT[v] & 3) << 4;
    }

    /** Reads the six-bit value at a column of a super-block held in a byte array: a Q6_K copy layout's {@code value}. */
    @FunctionalInterface
    interface Values {
        int at(byte[] sb, int base, int column);
    }

    /**
     * A row of {@code superBlocks} super-blocks at {@code row} of a Q6_K copy whose values {@code values} reads ({@link
     * #value}, {@link Q6Words#value}) dequantized, in column order, to {@code dst[off ‥)}; the row's bytes are read
     * into the heap first, as {@link #repackRow} does. The scales and factor are GGUF's, where both layouts keep them.
     */
    static void toFloats(MemorySegment data, long row, int superBlocks, float[] dst, int off, Values values) {
        int bytes = SUPER_BLOCK_BYTES * superBlocks;
        byte[] in = rows(bytes)[0];
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, row, in, 0, bytes);
        for (int s = 0; s < superBlocks; s++) {
            int base = SUPER_BLOCK_BYTES * s;
            float d = Float.float16ToFloat((short) ((in[base + 208] & 0xFF) | in[base + 209] << 8));
            for (int c = 0; c < 256; c++) dst[off + 256 * s + c] = d * in[base + 192 + c / 16] * (values.at(in, base, c) - 32);
        }
    }
}
