package dev.nemotron4j.engine.kernels;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a {@link Repacked} copy still fits in memory. A copy is anonymous memory: where the weights are larger
 * than the machine's RAM (a 70B BF16 model on a 128 GB host), mapped weights page in and out of the file, but copies
 * would push the machine into swap or the OOM killer. So a copy is made only while the memory available exceeds it
 * by a reserve; matrices refused keep the kernels that read the mapped file.
 *
 * <p>Available memory is Linux's {@code MemAvailable} (which counts the file's reclaimable page cache). Inside a
 * container whose memory limit is below the host's RAM, the JVM's container-aware free memory (limit minus usage) is
 * the tighter bound and is taken when smaller. Without {@code /proc/meminfo}, the JVM's free physical memory.
 */
final class RepackBudget {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private RepackBudget() {
    }

    /** Whether a copy of {@code bytes} leaves the reserve free; {@code -Dn4j.repackAvailable=BYTES} overrides the reading. */
    static boolean allows(long bytes) {
        long available = available();
        return available < 0 || bytes + reserve(jvm(true)) <= available;
    }

    /** Memory left for everything else (KV cache, heap, the OS): 1 GB, or 5 % of RAM (or of the container's limit). */
    static long reserve(long totalMemory) {
        return Math.max(1L << 30, totalMemory / 20);
    }

    /** Bytes of memory available now, or -1 where it cannot be read. */
    static long available() {
        Long forced = Long.getLong("n4j.repackAvailable");
        if (forced != null) return forced;
        long[] mem = meminfo();
        return available(mem[0], mem[1], jvm(true), jvm(false));
    }

    /**
     * Available memory from {@code /proc/meminfo}'s {@code MemAvailable} and {@code MemTotal} (-1 where unknown) and
     * the JVM's total and free physical memory, which inside a container are the limit and the limit minus usage.
     */
    static long available(long memAvailable, long memTotal, long jvmTotal, long jvmFree) {
        if (memAvailable < 0) return jvmFree;
        boolean limited = memTotal > 0 && jvmTotal > 0 && jvmTotal < memTotal;
        return limited && jvmFree >= 0 ? Math.min(memAvailable, jvmFree) : memAvailable;
    }

    /** {@code /proc/meminfo}'s {@code MemAvailable} and {@code MemTotal} in bytes, -1 where absent, from one read. */
    private static long[] meminfo() {
        long[] mem = {-1, -1};
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                int i = line.startsWith("MemAvailable:") ? 0 : line.startsWith("MemTotal:") ? 1 : -1;
                if (i >= 0) mem[i] = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no procfs
        }
        return mem;
    }

    /** The JVM's (container-aware) total or free physical memory, or -1. */
    private static long jvm(boolean total) {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? (total ? os.getTotalMemorySize() : os.getFreeMemorySize()) : -1;
    }
}
