package dev.nemotron4j.loader.safetensors;

import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorBlock;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/** Serialises a tensor's elements in C order whatever its block layout. */
final class TensorBytes {
    private TensorBytes() {
    }

    static void writeCOrder(Tensor t, OutputStream out) throws IOException {
        List<TensorBlock> blocks = t.blocks();
        if (blocks.size() == 1) {
            writeSegment(blocks.getFirst().data(), out);
            return;
        }
        // Row by row over the last dimension: find, for each leading index, the block holding each span.
        long[] shape = t.shape();
        int rank = shape.length;
        long inner = shape[rank - 1];
        long outer = Tensor.numel(shape) / Math.max(1, inner);
        long[] idx = new long[Math.max(0, rank - 1)];
        for (long o = 0; o < outer; o++) {
            long col = 0;
            while (col < inner) {
                TensorBlock hit = null;
                for (TensorBlock b : blocks) {
                    if (contains(b, idx, col)) {
                        hit = b;
                        break;
                    }
                }
                if (hit == null) throw new IOException("tensor '" + t.name() + "' has a hole at column " + col);
                long within = 0;
                for (int d = 0; d < rank - 1; d++) within = within * hit.size(d) + (idx[d] - hit.start(d));
                long c0 = col - hit.start(rank - 1);
                long n = hit.size(rank - 1) - c0;
                long byteOff = t.dtype().bytesFor(within * hit.size(rank - 1) + c0);
                writeSegment(hit.data().asSlice(byteOff, t.dtype().bytesFor(n)), out);
                col += n;
            }
            for (int d = rank - 2; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    }

    private static boolean contains(TensorBlock b, long[] idx, long col) {
        for (int d = 0; d < idx.length; d++) {
            if (idx[d] < b.start(d) || idx[d] >= b.start(d) + b.size(d)) return false;
        }
        int last = idx.length;
        return col >= b.start(last) && col < b.start(last) + b.size(last);
    }

    private static void writeSegment(MemorySegment seg, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, seg.byteSize()))];
        for (long off = 0; off < seg.byteSize(); off += buf.length) {
            int n = (int) Math.min(buf.length, seg.byteSize() - off);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, buf, 0, n);
            out.write(buf, 0, n);
        }
    }
}
