package dev.nemotron4j.engine.parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Tensor-parallel ranks inside one JVM, one thread each, all-reducing through shared memory. Every rank sums
 * the partials in rank order, so all ranks end with bit-identical values. Useful to run a model split the way
 * a multi-process deployment splits it, and to test that split.
 */
public final class LocalCollective implements Collective {
    private static final long TIMEOUT_SECONDS = 600;

    private final Shared shared;
    private final int rank;

    private static final class Shared {
        final CyclicBarrier barrier;
        final float[][] slots;

        Shared(int n) {
            barrier = new CyclicBarrier(n);
            slots = new float[n][];
        }
    }

    private LocalCollective(Shared shared, int rank) {
        this.shared = shared;
        this.rank = rank;
    }

    /** {@code n} connected ranks; hand rank r's collective to the thread that runs rank r. */
    public static List<Collective> group(int n) {
        if (n < 1) throw new IllegalArgumentException("a group needs at least one rank, got " + n);
        Shared s = new Shared(n);
        List<Collective> out = new ArrayList<>();
        for (int r = 0; r < n; r++) out.add(new LocalCollective(s, r));
        return List.copyOf(out);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return shared.slots.length;
    }

    @Override
    public void allReduceSum(float[] data, int off, int len) {
        float[] mine = shared.slots[rank];
        if (mine == null || mine.length < len) {
            mine = new float[len];
            shared.slots[rank] = mine;
        }
        System.arraycopy(data, off, mine, 0, len);
        await();
        for (int i = 0; i < len; i++) {
            float sum = 0;
            for (float[] slot : shared.slots) sum += slot[i];
            data[off + i] = sum;
        }
        await();
    }

    private void await() {
        try {
            shared.barrier.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("rank " + rank + " interrupted in all-reduce", e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("rank " + rank + ": another rank failed or stalled during all-reduce", e);
        }
    }
}
