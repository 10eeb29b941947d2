package dev.nemotron4j.engine.kernels;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a {@link Repacked} copy still fits in memory. A copy is anonymous memory: where the weights are larger
 * than the machine's RAM (a 70B BF16 model on a 128 GB host), mapped weights page in and out of the file, but copies
 * would push the machine into swap or the OOM killer. So a copy is made only while the memory the kernel reports as
 * available ({@code MemAvailable} on Linux, which counts the file's reclaimable page cache; elsewhere the free
 * physical memory) exceeds the copy by a reserve; matrices refused keep the kernels that read the mapped file.
 */
final class RepackBudget {
    /** Memory left for everything else (KV cache, heap, the OS): 1 GB, or 5 % of RAM when that is more. */
    private static final long RESERVE = Math.max(1L << 30, totalMemory() / 20);
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private RepackBudget() {
    }

    /** Whether a copy of {@code bytes} leaves the reserve free; {@code -Dn4j.repackAvailable=BYTES} overrides the reading. */
    static boolean allows(long bytes) {
        long available = available();
        return available < 0 || bytes + RESERVE <= available;
    }

    /** Bytes of memory available now, or -1 where it cannot be read. */
    static long available() {
        Long forced = Long.getLong("n4j.repackAvailable");
        if (forced != null) return forced;
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;   // "MemAvailable:  123 kB"
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no procfs: fall through
        }
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getFreeMemorySize() : -1;
    }

    private static long totalMemory() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getTotalMemorySize() : 0;
    }
}
