package dev.nemotron4j.engine.kernels;

import dev.nemotron4j.loader.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.engine.kernels.VectorDot.I16;
import static dev.nemotron4j.engine.kernels.VectorDot.LE;

/**
 * A Q4_0 matrix copied once into a layout for {@link PackedIntDot#dotQ4Repacked}, as llama.cpp repacks Q4_0 for its
 * CPU kernels. GGUF's layout puts each 32-value block's scale and 16 quant bytes together, so one vector register
 * sees one block and every block costs a conversion, a scale broadcast and an FMA. Here 16 consecutive blocks form a
 * group of 320 bytes per row: their 16 scales as floats (64 bytes), then four 64-byte words in which int lane
 * {@code j} holds quant bytes {@code 4i‥4i+3} of block {@code j}. A mask and three shifts turn one word into four
 * vectors of packed pairs, all 16 blocks are summed in int lanes, and a single FMA applies the 16 scales.
 *
 * <p>Only for full-width matrices whose columns are a multiple of 512; the copy is 11 % larger than the GGUF bytes
 * (float scales) and lives as long as the matrix.
 */
final class Q4Repacked {
    static final int GROUP = 512;
    static final int GROUP_BYTES = 320;

    final MemorySegment data;
    final long rowBytes;
    final int groups;

    private Q4Repacked(MemorySegment data, long rowBytes, int groups) {
        this.data = data;
        this.rowBytes = rowBytes;
        this.groups = groups;
    }

    /** Whether {@code w} can be repacked: Q4_0, full-width blocks, columns a multiple of 512, int kernels present. */
    static boolean eligible(WeightMatrix w) {
        if (w.dtype() != DType.Q4_0 || !PackedIntDot.AVAILABLE || w.cols() % GROUP != 0) return false;
        for (WeightMatrix.Block b : w.blocks()) if (b.colStart() != 0 || b.cols() != w.cols()) return false;
        return true;
    }

    static Q4Repacked of(WeightMatrix w, WorkerPool pool) {
        int rows = w.rows(), groups = w.cols() / GROUP;
        long rowBytes = (long) groups * GROUP_BYTES;
        MemorySegment data = Arena.ofAuto().allocate(rowBytes * rows, 64);
        pool.forRange(rows, w.cols(), (chunk, r0, r1) -> {
            for (WeightMatrix.Block b : w.blocks()) {
                int lo = Math.max(r0, b.rowStart()), hi = Math.min(r1, b.rowStart() + b.rows());
                for (int r = lo; r < hi; r++) {
                    long src = b.offset() + (long) (r - b.rowStart()) * b.rowStride();
                    repackRow(b.data(), src, data, r * rowBytes, groups);
                }
            }
        });
        return new Q4Repacked(data, rowBytes, groups);
    }

    private static void repackRow(MemorySegment src, long off, MemorySegment dst, long dOff, int groups) {
        for (int g = 0; g < groups; g++) {
            long d = dOff + (long) g * GROUP_BYTES;
            for (int j = 0; j < 16; j++) {
                long block = off + 18L * (16 * g + j);
                dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE), d + 4L * j, Float.float16ToFloat(src.get(I16, block)));
                for (int i = 0; i < 4; i++) {
                    int word = src.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), block + 2 + 4L * i);
                    dst.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), d + 64 + 64L * i + 4L * j, word);
                }
            }
        }
    }
}
