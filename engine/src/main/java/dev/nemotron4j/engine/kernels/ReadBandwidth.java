package dev.nemotron4j.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Optional;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The memory read bandwidth of this machine as a model's threads see it, for decode's roofline (tokens/s can not beat
 * bandwidth ÷ bytes of weights read per token): the pool's threads add up the longs of a buffer in huge pages, like
 * the weight copies, with 128-bit vectors and four independent sums, claiming pieces of it as they go as decode
 * claims rows (one fixed half per thread read 15–40 % below decode itself whenever the host slowed one vCPU down, the
 * other then waiting). Nothing but the loads and adds: what a decode kernel could stream at best. This VM's
 * two-thread rate moved between 30 and 77 GB/s within minutes, so measure it right beside what it is compared with,
 * more than once ({@link #gigabytesPerSecond} after each run).
 */
public final class ReadBandwidth {
    /**
     * 128-bit loads, four to a cache line: from DRAM they read 15–25 % more than 512-bit ones on this host (probe, two
     * threads, 1 GB: 38–40 against 30–32 GB/s in a slow phase, 60–62 against 53–56 in a fast one; 256-bit loads in
     * between, nearer the 128-bit ones), and the 512-bit sum had read below what the BF16 decode kernels themselves
     * streamed (bench/NOTES.md, step 56).
     */
    private static final VectorSpecies<Long> L = LongVector.SPECIES_128;
    /** Bytes one step of {@link #sum} reads: four vectors. */
    private static final int STEP = 4 * L.vectorByteSize();
    /**
     * Calls over the first bytes of the buffer before timing: enough loop iterations for C2 (the first pass over
     * 512 MB had run interpreted, at 0.7 GB/s).
     */
    private static final int WARM_UP_CALLS = 50;
    private static final long WARM_UP_BYTES = 1L << 20;
    /** Where the sums go, so that the loads are not dropped as dead code. */
    private static volatile long sink;

    /** The pieces threads claim: 2 MB, one huge page. */
    private static final long PIECE = 2L << 20;

    private final WorkerPool pool;
    private final MemorySegment buffer;

    private ReadBandwidth(WorkerPool pool, MemorySegment buffer) {
        this.pool = pool;
        this.buffer = buffer;
    }

    /**
     * A buffer of {@code bytes} rounded to whole 2 MB pieces (at least one per thread), written once, with the sum
     * compiled; empty where the buffer would not leave enough memory free ({@link RepackBudget}). The buffer is freed
     * once this is unreachable.
     */
    public static Optional<ReadBandwidth> over(WorkerPool pool, long bytes) {
        int pieces = (int) Math.max(pool.threads(), Math.min(Integer.MAX_VALUE, bytes / PIECE));
        if (!RepackBudget.allows(pieces * PIECE)) return Optional.empty();
        MemorySegment buffer = NativeBuffers.allocateUninitialized(pieces * PIECE, 64);
        pool.forRange(pieces, PIECE, (chunk, p0, p1) -> buffer.asSlice(p0 * PIECE, (p1 - p0) * PIECE).fill((byte) 1));
        for (int i = 0; i < WARM_UP_CALLS; i++) sink += sum(buffer, 0, WARM_UP_BYTES);
        return Optional.of(new ReadBandwidth(pool, buffer));
    }

    public long bytes() {
        return buffer.byteSize();
    }

    /** GB/s of the fastest of {@code passes} passes over the buffer. */
    public double gigabytesPerSecond(int passes) {
        long best = Long.MAX_VALUE;
        long[] sums = new long[pool.threads()];
        for (int p = 0; p < Math.max(1, passes); p++) {
            long start = System.nanoTime();
            pool.forRange((int) (buffer.byteSize() / PIECE), PIECE, (chunk, p0, p1) -> sums[chunk] += sum(buffer, p0 * PIECE, p1 * PIECE));
            best = Math.min(best, System.nanoTime() - start);
        }
        for (long s : sums) sink += s;
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
