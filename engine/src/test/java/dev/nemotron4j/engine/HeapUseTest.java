package dev.nemotron4j.engine;

import dev.nemotron4j.engine.testing.ZarrNemoWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weights stay in the mapped files: loading and running a checkpoint barely moves the Java heap. */
class HeapUseTest {
    @TempDir
    Path tmp;

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void aZarrNemoCheckpointOf200MbAddsOnlyAFewMbOfHeap() throws IOException {
        Path dir = ZarrNemoWriter.write(tmp.resolve("big.nemo.d"), 6, 512, 8, 2, 64, 16384, 3);
        long checkpointBytes;
        try (Stream<Path> s = Files.walk(dir)) {
            checkpointBytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(checkpointBytes > 190_000_000L, "checkpoint is " + checkpointBytes + " bytes");
        long before = usedHeapAfterGc();
        try (NemotronModel model = NemotronModel.load(dir, LoadOptions.defaults().withThreads(2).withContextLength(64))) {
            float[] logits = model.logitsAll(new int[]{5, 6, 7})[2];
            assertEquals(1024, logits.length);
            long during = usedHeapAfterGc();
            long grown = during - before;
            System.out.printf("heap grew %.1f MB while %.1f MB of weights were loaded and used%n", grown / 1e6, checkpointBytes / 1e6);
            assertTrue(grown < checkpointBytes / 20, "heap grew by " + grown + " bytes for a " + checkpointBytes + "-byte checkpoint");
            assertTrue(model.bytesPerToken() > 190_000_000L);
        }
    }
}
