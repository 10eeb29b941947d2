package dev.nemotron4j.engine.kernels;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads one model computes with. Each model owns its pool (no global state); work is split into
 * at most {@link #threads()} contiguous chunks, the calling thread runs the first one itself.
 */
public final class WorkerPool implements AutoCloseable {
    /** Work below this many multiply-adds runs on the caller: dispatch would cost more than it saves. */
    public static final long MIN_PARALLEL_WORK = 1 << 15;

    @FunctionalInterface
    public interface RangeTask {
        /** Processes items {@code [start, end)}; {@code chunk} in {@code [0, threads)} indexes per-thread scratch. */
        void run(int chunk, int start, int end);
    }

    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final int threads;
    private final ExecutorService executor;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        int id = POOL_IDS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "nemotron4j-" + id + "-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** Splits {@code [0, items)} over the threads; {@code workPerItem} (multiply-adds) decides whether to bother. */
    public void forRange(int items, long workPerItem, RangeTask task) {
        int chunks = (int) Math.min(threads, items);
        if (chunks <= 1 || (long) items * workPerItem < MIN_PARALLEL_WORK) {
            if (items > 0) task.run(0, 0, items);
            return;
        }
        Future<?>[] pending = new Future<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            final int chunk = c;
            final int start = bound(items, chunks, c);
            final int end = bound(items, chunks, c + 1);
            pending[c - 1] = executor.submit(() -> task.run(chunk, start, end));
        }
        Throwable failure = null;
        try {
            task.run(0, 0, bound(items, chunks, 1));
        } catch (Throwable t) {
            failure = t;
        }
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException(failure);
    }

    private static int bound(int items, int chunks, int c) {
        return (int) ((long) items * c / chunks);
    }

    @Override
    public void close() {
        if (executor != null) executor.shutdownNow();
    }
}
