package dev.nemotron4j.engine.model;

import dev.nemotron4j.engine.kernels.Attention;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Keys (after RoPE) and values of every position so far, off-heap, F32. Per layer one segment for keys and one for
 * values; one KV head's history is contiguous in each. Values are laid out {@code [kvHead][position][headDim]}, keys
 * in blocks of {@link Attention#KEY_BLOCK} positions, dimension-major inside a block ({@link Attention#keyOffset}),
 * so that attention reads one dimension of 16 positions as one vector.
 */
public final class KvCache implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] keys;
    private final MemorySegment[] values;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;
    /** Positions allocated per head: the capacity rounded up to whole key blocks. */
    private final int slots;

    public KvCache(int layers, int kvHeads, int headDim, int capacity) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.slots = Attention.slots(capacity);
        this.keys = new MemorySegment[layers];
        this.values = new MemorySegment[layers];
        long bytes = 4L * kvHeads * slots * headDim;
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

    /**
     * Byte offset of {@code kvHead}'s history in both segments: its value for position p is {@code p·headDim·4}
     * further, its key as {@link Attention#keyOffset} says.
     */
    public long headBase(int kvHead) {
        return 4L * kvHead * slots * headDim;
    }

    /** Stores the k and v of every local KV head of one position, read from {@code src} at the given offsets. */
    public void store(int layer, int position, float[] src, int kOff, int vOff) {
        MemorySegment k = keys[layer];
        for (int g = 0; g < kvHeads; g++) {
            long head = headBase(g);
            for (int d = 0; d < headDim; d++) {
                k.set(ValueLayout.JAVA_FLOAT_UNALIGNED, head + Attention.keyOffset(position, d, headDim), src[kOff + g * headDim + d]);
            }
            storeValue(layer, g, position, src, vOff + g * headDim);
        }
    }

    /** Whether {@link #storeBlock} may be used (see {@link Attention#blockStores}). */
    public boolean blockStores() {
        return Attention.blockStores(headDim);
    }

    /**
     * Stores the k and v of every local KV head of the {@link Attention#KEY_BLOCK} positions from {@code position0} (a
     * multiple of it), position {@code position0 + k}'s read from {@code src} at {@code kOff + k·stride} and
     * {@code vOff + k·stride}: the keys a whole block at a time ({@link Attention#storeKeyBlock}). Only where
     * {@link #blockStores}.
     */
    public void storeBlock(int layer, int position0, float[] src, int kOff, int vOff, int stride) {
        if (position0 % Attention.KEY_BLOCK != 0 || position0 < 0 || position0 + Attention.KEY_BLOCK > capacity) {
            throw new IllegalArgumentException("a key block starts at a multiple of " + Attention.KEY_BLOCK
                    + " and ends within the capacity " + capacity + "; got position " + position0);
        }
        for (int g = 0; g < kvHeads; g++) {
            Attention.storeKeyBlock(keys[layer], headBase(g), position0, src, kOff + g * headDim, stride, headDim);
            for (int k = 0; k < Attention.KEY_BLOCK; k++) storeValue(layer, g, position0 + k, src, vOff + k * stride + g * headDim);
        }
    }

    /** KV head {@code g}'s value for {@code position}, read from {@code src[from ‥ from + headDim)}. */
    private void storeValue(int layer, int g, int position, float[] src, int from) {
        MemorySegment.copy(src, from, values[layer], ValueLayout.JAVA_FLOAT_UNALIGNED,
                headBase(g) + 4L * position * headDim, headDim);
    }

    public long byteSize() {
        return 2L * keys.length * 4L * kvHeads * slots * headDim;
    }

    @Override
    public void close() {
        arena.close();
    }
}
