package dev.nemotron4j.engine.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Keys (after RoPE) and values of every position so far, off-heap, F32. Per layer one segment for keys and
 * one for values, laid out {@code [kvHead][position][headDim]} so that one head's history is contiguous.
 */
public final class KvCache implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] keys;
    private final MemorySegment[] values;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;

    public KvCache(int layers, int kvHeads, int headDim, int capacity) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.keys = new MemorySegment[layers];
        this.values = new MemorySegment[layers];
        long bytes = 4L * kvHeads * capacity * headDim;
        for (int l = 0; l < layers; l++) {
            keys[l] = arena.allocate(bytes, 64);
            values[l] = arena.allocate(bytes, 64);
        }
    }

    /** Positions the cache can hold. */
    public int capacity() {
        return capacity;
    }

    public MemorySegment keys(int layer) {
        return keys[layer];
    }

    public MemorySegment values(int layer) {
        return values[layer];
    }

    /** Byte offset of position 0 of {@code kvHead}; position p is {@code p·headDim·4} further. */
    public long headBase(int kvHead) {
        return 4L * kvHead * capacity * headDim;
    }

    /** Stores the k and v of every local KV head of one position, read from {@code src} at the given offsets. */
    public void store(int layer, int position, float[] src, int kOff, int vOff) {
        for (int g = 0; g < kvHeads; g++) {
            long at = headBase(g) + 4L * position * headDim;
            MemorySegment.copy(src, kOff + g * headDim, keys[layer], ValueLayout.JAVA_FLOAT_UNALIGNED, at, headDim);
            MemorySegment.copy(src, vOff + g * headDim, values[layer], ValueLayout.JAVA_FLOAT_UNALIGNED, at, headDim);
        }
    }

    public long byteSize() {
        return 2L * keys.length * 4L * kvHeads * capacity * headDim;
    }

    @Override
    public void close() {
        arena.close();
    }
}
