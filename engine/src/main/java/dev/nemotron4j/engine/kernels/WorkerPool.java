package dev.nemotron4j.engine.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads one model computes with. Each model owns its pool (no global state); work is split into contiguous parts
 * claimed from a shared counter, large first and smaller as the work runs out; the calling thread works too.
 *
 * <p>Dispatch allocates nothing and costs about a microsecond: a dispatch publishes the task and bumps an epoch;
 * workers spin briefly for the next epoch (decode issues ~80 dispatches per token, back to back) and park when idle;
 * the caller waits for a countdown the same way. Dispatches from different threads are serialised, so sessions of
 * one model may run on different threads.
 */
public final class WorkerPool implements AutoCloseable {
    /** Work below this many multiply-adds runs on the caller: dispatch would cost more than it saves. */
    public static final long MIN_PARALLEL_WORK = 1 << 15;
    /** Spin iterations before parking (~tens of microseconds). */
    private static final int SPINS = 1 << 14;
    /**
     * Parts per thread: threads claim parts from a shared counter, so a core that is slower at the moment (a noisy
     * neighbour, a page fault) takes fewer of them instead of holding everyone up at the end of the dispatch. 16
     * rather than 4: the last part, which one thread finishes while the other waits, is a quarter as long (4B BF16
     * decode 3.44 / 3.30 → 4.15 / 3.84 tok/s; bench/NOTES.md, step 17).
     */
    static final int PARTS_PER_THREAD = Integer.getInteger("n4j.parts", 16);
    /**
     * Parts shrink as the work runs out ("guided"): each claim takes the items left over twice the threads, but no
     * fewer than half a part of the fixed split above; so the first parts are large (fewer claims, fewer passes over
     * shared inputs) and the last ones, which decide how long one thread waits for the other, are half as long as
     * before (bench/NOTES.md, step 37). {@code -Dn4j.guided=false} restores the fixed parts, for measurements.
     */
    private static final boolean GUIDED = !"false".equals(System.getProperty("n4j.guided"));

    @FunctionalInterface
    public interface RangeTask {
        /** Processes items {@code [start, end)}; {@code chunk} in {@code [0, threads)} indexes per-thread scratch. */
        void run(int chunk, int start, int end);
    }

    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final int threads;
    private final Thread[] workers;
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile RangeTask task;
    private volatile int items;
    private volatile int chunks;
    private final AtomicInteger nextPart = new AtomicInteger();
    /** Guided parts: the first item not yet claimed; part sizes are multiples of {@link #granule}, at least {@link #smallest}. */
    private final AtomicInteger nextItem = new AtomicInteger();
    private volatile int granule, smallest;
    /** {@link #forStreams}: whether this dispatch splits so, and each thread's stretch still unclaimed, {@code (lo, hi)} packed. */
    private volatile boolean streams;
    private final java.util.concurrent.atomic.AtomicLongArray homes;
    private volatile Throwable failure;
    private volatile Thread caller;
    private volatile boolean closed;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.homes = new java.util.concurrent.atomic.AtomicLongArray(threads);
        this.workers = new Thread[threads - 1];
        int id = POOL_IDS.incrementAndGet();
        for (int k = 1; k < threads; k++) {
            final int index = k;
            Thread t = new Thread(() -> work(index), "nemotron4j-" + id + "-worker-" + k);
            t.setDaemon(true);
            workers[k - 1] = t;
            t.start();
        }
    }

    public int threads() {
        return threads;
    }

    /** Splits {@code [0, items)} over the threads; {@code workPerItem} (multiply-adds) decides whether to bother. */
    public void forRange(int items, long workPerItem, RangeTask task) {
        dispatch(items, workPerItem, task, false);
    }

    /**
     * As {@link #forRange}, with each thread's parts following each other in memory: thread {@code t} starts at the
     * {@code t}-th of {@code threads} equal stretches of the items and claims its parts from there forward, so its
     * reads are one forward stream; a thread done with its own stretch takes half of what is left of another's, from
     * its end, and goes through it the same way (so it can be shared again), again and again. For streaming weights
     * from DRAM in decode, where each new stretch costs a restart of the hardware prefetcher's stream and
     * {@link #forRange}'s shared counter hands the two threads alternate parts (bench/NOTES.md, steps 60 and 61).
     */
    public void forStreams(int items, long workPerItem, RangeTask task) {
        dispatch(items, workPerItem, task, STREAMS);
    }

    /**
     * {@link #forStreams}: a stretch's parts shrink towards its end, halving down to {@code 1/TAPER_STEPS} of a step;
     * {@code -Dn4j.taper=false} keeps whole steps to the end, for measurements.
     */
    private static final boolean TAPER = !"false".equals(System.getProperty("n4j.taper"));
    private static final int TAPER_STEPS = 8;

    /** A/B switch for measurements: {@code -Dn4j.streams=false} makes {@link #forStreams} split as {@link #forRange}. */
    private static final boolean STREAMS = !"false".equals(System.getProperty("n4j.streams"));

    private void dispatch(int items, long workPerItem, RangeTask task, boolean streams) {
        if (threads == 1 || items <= 1 || (long) items * workPerItem < MIN_PARALLEL_WORK) {
            if (items > 0) task.run(0, 0, items);
            return;
        }
        synchronized (this) {
            if (closed) throw new IllegalStateException("the model's thread pool is closed");
            this.task = task;
            this.items = items;
            this.chunks = (int) Math.min((long) threads * PARTS_PER_THREAD, items);
            this.granule = granule(items, chunks);
            this.smallest = GUIDED ? Math.max(granule, items / (2 * chunks) / granule * granule) : 0;
            this.streams = streams;
            if (streams) {
                for (int t = 0; t < threads; t++) homes.set(t, pack(bound(items, threads, t, granule), bound(items, threads, t + 1, granule)));
            }
            this.failure = null;
            nextPart.set(0);
            nextItem.set(0);
            this.caller = Thread.currentThread();
            pending.set(workers.length);
            epoch.incrementAndGet(); // publishes the fields above to the workers
            for (Thread w : workers) LockSupport.unpark(w);
            Throwable mine = null;
            try {
                runParts(0, task, items, this.chunks);
            } catch (Throwable t) {
                mine = t;
            }
            for (int spin = 0; pending.get() > 0; spin++) {
                if (spin < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            this.task = null;
            Throwable failed = mine != null ? mine : failure;
            if (failed instanceof RuntimeException re) throw re;
            if (failed instanceof Error err) throw err;
            if (failed != null) throw new IllegalStateException(failed);
        }
    }

    private void work(int index) {
        long seen = 0;
        while (true) {
            long e;
            for (int spin = 0; (e = epoch.get()) == seen && !closed; spin++) {
                if (spin < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = e;
            RangeTask t = task;
            int n = items, c = chunks;
            if (t != null) {
                try {
                    runParts(index, t, n, c);
                } catch (Throwable x) {
                    failure = x;
                }
            }
            if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
        }
    }

    private void runParts(int thread, RangeTask t, int items, int parts) {
        if (streams) {
            runStreams(thread, t, items, parts);
            return;
        }
        int least = smallest;
        if (least > 0) {
            int g = granule, share = 2 * threads;
            for (int lo; (lo = nextItem.get()) < items; ) {
                int size = Math.max(least, (items - lo) / share / g * g), hi = items - lo <= size ? items : lo + size;
                if (nextItem.compareAndSet(lo, hi)) t.run(thread, lo, hi);
            }
            return;
        }
        for (int p; (p = nextPart.getAndIncrement()) < parts; ) t.run(thread, bound(items, parts, p), bound(items, parts, p + 1));
    }

    /**
     * {@link #forStreams}: this thread's own stretch from its front, in parts of about {@code 1/parts} of the items;
     * then, again and again, half of what is left of another thread's stretch, taken from its end and made this
     * thread's own, so that it too goes in parts from its front and a third thread can take half of it in turn (with
     * the stolen half run as one piece, a thread held up in it held up the dispatch). No part is longer than a step.
     */
    private void runStreams(int thread, RangeTask t, int items, int parts) {
        int g = granule, step = Math.max(g, items / parts / g * g), fine = TAPER ? Math.max(g, step / TAPER_STEPS / g * g) : step;
        while (true) {
            for (long v; ; ) {
                v = homes.get(thread);
                int lo = lo(v), hi = hi(v);
                if (lo >= hi) break;
                // half of what is left, between a step and a fine part: the stretch's last parts are short, so the
                // part another thread may wait for at the end is short (bench/NOTES.md, step 72)
                int size = Math.max(fine, Math.min(step, (hi - lo) / 2 / g * g));
                int end = hi - lo <= size ? hi : lo + size;   // no lo + size past Integer.MAX_VALUE
                if (homes.compareAndSet(thread, v, pack(end, hi))) t.run(thread, lo, end);
            }
            if (!steal(thread, g, step)) return;
        }
    }

    /**
     * Takes half of what is left of the first other stretch with work left (the back half, on a part boundary; all of
     * it when no more than a step is left) into this thread's own, empty slot. Only a slot's owner fills an empty slot
     * and a claim never gives items back, so a slot never returns to a value another thread read earlier (no ABA).
     */
    private boolean steal(int thread, int g, int step) {
        for (int k = 1; k < threads; k++) {
            int victim = (thread + k) % threads;
            for (long v; ; ) {
                v = homes.get(victim);
                int lo = lo(v), hi = hi(v), left = hi - lo;
                if (left <= 0) break;
                int start = (hi - left / 2) / g * g;   // half of what is left, on a part boundary
                if (start <= lo || start >= hi || left <= step) start = lo;
                if (homes.compareAndSet(victim, v, pack(lo, start))) {
                    homes.set(thread, pack(start, hi));
                    return true;
                }
            }
        }
        return false;
    }

    private static long pack(int lo, int hi) {
        return (long) lo << 32 | (hi & 0xFFFFFFFFL);
    }

    private static int lo(long v) {
        return (int) (v >>> 32);
    }

    private static int hi(long v) {
        return (int) v;
    }

    /** {@code t}-th of {@code n} equal stretches of {@code items}, its start on a multiple of {@code g} (the last ends at {@code items}). */
    private static int bound(int items, int n, int t, int g) {
        return t >= n ? items : (int) ((long) items * t / n) / g * g;
    }

    /** Part boundaries; on multiples of 16 when parts are large, so row tiles of 4 stay whole. */
    private static int bound(int items, int parts, int p) {
        return bound(items, parts, p, granule(items, parts));
    }

    /**
     * What part boundaries are multiples of: 16 once the fixed parts would hold {@link #GRANULE_FROM} items or more, so
     * that row tiles of 4 (and 8) stay whole.
     */
    static int granule(int items, int parts) {
        return items >= (long) parts * GRANULE_FROM ? 16 : 1;
    }

    /**
     * Was 64: then 1024-row matrices (the small shape's attention output and down projections, 45 % of its prefill)
     * with 32 parts got parts of any size, and each part's last rows went through one-row prefill tiles.
     * {@code -Dn4j.granuleFrom=64} restores that, for measurements.
     */
    private static final int GRANULE_FROM = Integer.getInteger("n4j.granuleFrom", 16);

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
