package dev.nemotron4j.engine.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class NativeBuffersTest {
    @Test
    void smallBuffersAreDisjointAlignedAndKeepWhatIsWrittenToThem() {
        // sizes that fill a shared chunk and spill into the next, with odd sizes so that alignment matters
        long[] sizes = {5000, 1 << 20, 3, 7L << 20, 64, 9L << 20, 12345, 15L << 20, 777, 6L << 20, 100};
        List<MemorySegment> buffers = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            MemorySegment b = NativeBuffers.allocateUninitialized(sizes[i], 64);
            assertEquals(sizes[i], b.byteSize(), "buffer " + i + " size");
            assertEquals(0, b.address() % 64, "buffer " + i + " aligned to 64");
            b.fill((byte) (i + 1));
            buffers.add(b);
        }
        for (int i = 0; i < buffers.size(); i++) {
            MemorySegment a = buffers.get(i);
            for (int j = i + 1; j < buffers.size(); j++) {
                MemorySegment b = buffers.get(j);
                boolean apart = a.address() + a.byteSize() <= b.address() || b.address() + b.byteSize() <= a.address();
                assertTrue(apart, "buffers " + i + " and " + j + " overlap");
            }
            // first and last byte still hold what was written (no later buffer was cut over this one)
            assertEquals((byte) (i + 1), a.get(ValueLayout.JAVA_BYTE, 0), "buffer " + i + " first byte");
            assertEquals((byte) (i + 1), a.get(ValueLayout.JAVA_BYTE, a.byteSize() - 1), "buffer " + i + " last byte");
        }
    }

    @Test
    void largeBuffersComeOnTheirOwnAndEmptyOnesAreAllowed() {
        MemorySegment big = NativeBuffers.allocateUninitialized(NativeBuffers.CHUNK / 2, 64);
        assertEquals(NativeBuffers.CHUNK / 2, big.byteSize());
        big.set(ValueLayout.JAVA_LONG, big.byteSize() - 8, 42L);
        assertEquals(42L, big.get(ValueLayout.JAVA_LONG, big.byteSize() - 8));
        assertEquals(0, NativeBuffers.allocateUninitialized(0, 64).byteSize());
    }
}
