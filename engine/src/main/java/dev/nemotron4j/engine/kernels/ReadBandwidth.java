package dev.nemotron4j.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Optional;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The memory read bandwidth of this machine as a model's threads see it, for decode's roofline (tokens/s can not beat
 * bandwidth ÷ bytes of weights read per token): each thread adds up the longs of its share of a buffer, in huge pages
 * like the weight copies, with the widest vectors and four independent sums. Nothing but the loads and adds: what a
 * decode kernel could stream at best. This VM's two-thread rate moved between 30 and 77 GB/s within minutes, so
 * measure it right beside what it is compared with, more than once ({@link #gigabytesPerSecond} after each run).
 */
public final class ReadBandwidth {
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    /** Bytes one step of {@link #sum} reads: four vectors. */
    private static final int STEP = 4 * L.vectorByteSize();
    /** Calls over the first bytes of the buffer before timing: enough loop iterations for C2 (the first pass over 512 MB had run interpreted, at 0.7 GB/s). */
    private static final int WARM_UP_CALLS = 50;
    private static final long WARM_UP_BYTES = 1L << 20;
    /** Where the sums go, so that the loads are not dropped as dead code. */
    private static volatile long sink;

    private final WorkerPool pool;
    private final MemorySegment buffer;
    private final long share;
    private final long[] sums;

    private ReadBandwidth(WorkerPool pool, MemorySegment buffer, long share) {
        this.pool = pool;
        this.buffer = buffer;
        this.share = share;
        this.sums = new long[pool.threads()];
    }

    /**
     * A buffer of {@code bytes} (rounded down to whole steps, at least one per thread) written once, split over {@code
     * pool}'s threads in one contiguous share each, with the sum compiled; empty where the buffer would not leave
     * enough memory free ({@link RepackBudget}). The buffer is freed once this is unreachable.
     */
    public static Optional<ReadBandwidth> over(WorkerPool pool, long bytes) {
        int threads = pool.threads();
        long share = Math.max(1, bytes / threads / STEP) * STEP;
        if (!RepackBudget.allows(share * threads)) return Optional.empty();
        MemorySegment buffer = NativeBuffers.allocateUninitialized(share * threads, 64);
        pool.forRange(threads, Long.MAX_VALUE / threads, (chunk, t0, t1) -> buffer.asSlice(t0 * share, (t1 - t0) * share).fill((byte) 1));
        long warm = Math.min(share, WARM_UP_BYTES) / STEP * STEP;
        for (int i = 0; i < WARM_UP_CALLS; i++) sink += sum(buffer, 0, warm);
        return Optional.of(new ReadBandwidth(pool, buffer, share));
    }

    public long bytes() {
        return buffer.byteSize();
    }

    /** GB/s of the fastest of {@code passes} passes over the buffer, every thread reading its share. */
    public double gigabytesPerSecond(int passes) {
        long best = Long.MAX_VALUE;
        for (int p = 0; p < Math.max(1, passes); p++) {
            long start = System.nanoTime();
            pool.forRange(sums.length, Long.MAX_VALUE / sums.length, (chunk, t0, t1) -> {
                for (int t = t0; t < t1; t++) sums[t] = sum(buffer, t * share, (t + 1) * share);
            });
            best = Math.min(best, System.nanoTime() - start);
            for (long s : sums) sink += s;
        }
        return buffer.byteSize() / (double) best;
    }

    /** The sum of the longs in {@code [from, to)} of {@code m}; the range is whole steps of four vectors. */
    static long sum(MemorySegment m, long from, long to) {
        LongVector s0 = LongVector.zero(L), s1 = s0, s2 = s0, s3 = s0;
        int v = L.vectorByteSize();
        for (long p = from; p < to; p += STEP) {
            s0 = s0.add(LongVector.fromMemorySegment(L, m, p, ByteOrder.LITTLE_ENDIAN));
            s1 = s1.add(LongVector.fromMemorySegment(L, m, p + v, ByteOrder.LITTLE_ENDIAN));
            s2 = s2.add(LongVector.fromMemorySegment(L, m, p + 2L * v, ByteOrder.LITTLE_ENDIAN));
            s3 = s3.add(LongVector.fromMemorySegment(L, m, p + 3L * v, ByteOrder.LITTLE_ENDIAN));
        }
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }
}
