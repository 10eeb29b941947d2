package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.engine.kernels.VectorDot.I16;
import static dev.nemotron4j.engine.kernels.VectorDot.LE;

/**
 * A Q4_0 or Q8_0 matrix copied once into a layout for the integer kernels of {@link PackedIntDot}, as llama.cpp
 * repacks these formats for its CPU kernels. GGUF keeps each 32-value block's scale next to its quants, so one
 * vector register sees one block and every block costs a conversion, a scale broadcast and an FMA. Here 16
 * consecutive blocks of a row form a group of words whose int lane {@code j} belongs to block {@code j}; all 16
 * blocks are summed in int lanes and a single FMA applies the 16 scales. A row starts with the half-precision scales
 * of all its groups (32 bytes a group, padded to 64 so that the words stay on cache-line boundaries), then the words
 * of each group; apart from that padding the copy is the size of the original.
 *
 * <ul>
 *   <li>Q4_0, 256 bytes of words per group: four 64-byte words; word {@code i}, lane {@code j} holds quant bytes
 *       {@code 4i‥4i+3} of block {@code j} (see {@link PackedIntDot#dotQ4Repacked}).</li>
 *   <li>Q8_0, 512 bytes of words per group: sixteen 32-byte words; word {@code s} holds, for block {@code j}, the byte pair
 *       {@code (q[2s], q[2s+1] − [q[2s] < 0])} at bytes {@code 2j, 2j+1}. Sign-extended to shorts and read as an
 *       int, that pair is exactly {@code q[2s] + q[2s+1]·2¹⁶} (see {@link PackedIntDot#dotQ8Repacked}).</li>
 * </ul>
 *
 * <p>Only for full-width matrices whose columns are a multiple of 512. A matrix the layout cannot hold exactly (a
 * Q8_0 pair {@code (<0, −128)}, an infinite or NaN scale) is not repacked and keeps the GGUF kernels.
 */
final class Repacked {
    static final int GROUP = 512;
    static final int Q4_GROUP_BYTES = 256;
    static final int Q8_GROUP_BYTES = 512;

    final DType dtype;
    final MemorySegment data;
    final long rowBytes;
    /** Where a row's words start: the scales come first. */
    final long wordsOffset;
    final int groups;

    private Repacked(DType dtype, MemorySegment data, long rowBytes, long wordsOffset, int groups) {
        this.dtype = dtype;
        this.data = data;
        this.rowBytes = rowBytes;
        this.wordsOffset = wordsOffset;
        this.groups = groups;
    }

    /** Whether {@code w} can be repacked: Q4_0 or Q8_0, full-width blocks, columns a multiple of 512, int kernels present. */
    static boolean eligible(WeightMatrix w) {
        if ((w.dtype() != DType.Q4_0 && w.dtype() != DType.Q8_0) || !PackedIntDot.AVAILABLE || w.cols() % GROUP != 0) {
            return false;
        }
        for (WeightMatrix.Block b : w.blocks()) if (b.colStart() != 0 || b.cols() != w.cols()) return false;
        return true;
    }

    /** The repacked copy of an {@link #eligible} matrix, or null where its values do not fit the layout. */
    static Repacked of(WeightMatrix w, WorkerPool pool) {
        int rows = w.rows(), groups = w.cols() / GROUP;
        boolean q8 = w.dtype() == DType.Q8_0;
        long words = (groups * 32L + 63) & ~63L;
        long rowBytes = words + (long) groups * (q8 ? Q8_GROUP_BYTES : Q4_GROUP_BYTES);
        MemorySegment data = Arena.ofAuto().allocate(rowBytes * rows, 64);
        boolean[] unfit = new boolean[1];
        pool.forRange(rows, w.cols(), (chunk, r0, r1) -> {
            for (WeightMatrix.Block b : w.blocks()) {
                int lo = Math.max(r0, b.rowStart()), hi = Math.min(r1, b.rowStart() + b.rows());
                for (int r = lo; r < hi; r++) {
                    long src = b.offset() + (long) (r - b.rowStart()) * b.rowStride();
                    boolean ok = q8 ? repackQ8Row(b.data(), src, data, r * rowBytes, words, groups)
                            : repackQ4Row(b.data(), src, data, r * rowBytes, words, groups);
                    if (!ok) unfit[0] = true;
                }
            }
        });
        return unfit[0] ? null : new Repacked(w.dtype(), data, rowBytes, words, groups);
    }

    /** Copies the 16 scales of group {@code g}; false if one is infinite or NaN (the kernels' conversion assumes finite). */
    private static boolean copyScales(MemorySegment src, long off, int blockBytes, int g, MemorySegment dst, long d) {
        for (int j = 0; j < 16; j++) {
            short h = src.get(I16, off + (long) blockBytes * (16 * g + j));
            if ((h & 0x7C00) == 0x7C00) return false;
            dst.set(I16, d + 2L * j, h);
        }
        return true;
    }

    private static boolean repackQ4Row(MemorySegment src, long off, MemorySegment dst, long dOff, long words, int groups) {
        for (int g = 0; g < groups; g++) {
            long d = dOff + words + (long) g * Q4_GROUP_BYTES;
            if (!copyScales(src, off, 18, g, dst, dOff + 32L * g)) return false;
            for (int j = 0; j < 16; j++) {
                long block = off + 18L * (16 * g + j);
                for (int i = 0; i < 4; i++) {
                    int word = src.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), block + 2 + 4L * i);
                    dst.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), d + 64L * i + 4L * j, word);
                }
            }
        }
        return true;
    }

    private static boolean repackQ8Row(MemorySegment src, long off, MemorySegment dst, long dOff, long words, int groups) {
        for (int g = 0; g < groups; g++) {
            long d = dOff + words + (long) g * Q8_GROUP_BYTES;
            if (!copyScales(src, off, 34, g, dst, dOff + 32L * g)) return false;
            for (int j = 0; j < 16; j++) {
                long block = off + 34L * (16 * g + j) + 2;
                for (int s = 0; s < 16; s++) {
                    byte lo = src.get(ValueLayout.JAVA_BYTE, block + 2 * s);
                    int hi = src.get(ValueLayout.JAVA_BYTE, block + 2 * s + 1) - (lo < 0 ? 1 : 0);
                    if (hi < Byte.MIN_VALUE) return false;
                    dst.set(ValueLayout.JAVA_BYTE, d + 32L * s + 2 * j, lo);
                    dst.set(ValueLayout.JAVA_BYTE, d + 32L * s + 2 * j + 1, (byte) hi);
                }
            }
        }
        return true;
    }
}
