package dev.nemotron4j.tools.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A warm-up on a thread of its own: `chat` compiles the kernels while its user types the first message, and waits for
 * the rest of it only before the first reply. Closing it stops the warm-up at its next check and waits for it, so that
 * quitting before the first reply never races the model's close (at worst it waits for the warm-up's first pass,
 * seconds of interpreted kernels: {@link dev.nemotron4j.engine.NemotronModel#warmUpKernels(java.util.function.BooleanSupplier)}).
 */
final class BackgroundWarmUp implements AutoCloseable {
    /** The work; it asks {@code stop} between its steps and returns soon after it says true. */
    @FunctionalInterface
    interface Task {
        void run(BooleanSupplier stop);
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;
    private volatile Throwable failure;
    private boolean awaited;

    private BackgroundWarmUp(Task task) {
        thread = Thread.ofPlatform().name("nemotron4j-warm-up").daemon(true).unstarted(() -> {
            try {
                task.run(stop::get);
            } catch (Throwable t) {
                failure = t;
            }
        });
    }

    static BackgroundWarmUp start(Task task) {
        BackgroundWarmUp w = new BackgroundWarmUp(task);
        w.thread.start();
        return w;
    }

    boolean done() {
        return !thread.isAlive();
    }

    /**
     * Waits until the warm-up has finished (at once after the first call); {@code beforeWaiting} runs first when it has
     * not. A warm-up that failed fails here, with its cause. Gives up, returning false with the warm-up still running,
     * once {@code cancelled} says true (asked every {@link #POLL_MILLIS} ms): a user's Ctrl-C while the first reply
     * waits.
     */
    boolean await(Runnable beforeWaiting, BooleanSupplier cancelled) {
        if (awaited) return true;
        if (!done()) beforeWaiting.run();
        while (!done()) {
            if (cancelled.getAsBoolean()) return false;
            try {
                thread.join(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        awaited = true;
        Throwable t = failure;
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException("the warm-up failed: " + t, t);
        return true;
    }

    /** How often a waiting {@link #await} asks whether it should give up. */
    static final long POLL_MILLIS = 20;

    /** Stops the warm-up at its next check and waits for it to end. */
    @Override
    public void close() {
        stop.set(true);
        join();
    }

    private void join() {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
