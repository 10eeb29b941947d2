package dev.nemotron4j.tools.cli;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackgroundWarmUpTest {
    @Test
    void awaitWaitsForTheWorkAndSaysSoOnlyWhenItMustWait() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger(), notes = new AtomicInteger();
        try (BackgroundWarmUp w = BackgroundWarmUp.start(stop -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            steps.set(5);
        })) {
            Thread releaser = new Thread(() -> {
                sleep(50);
                release.countDown();
            });
            releaser.start();
            w.await(notes::incrementAndGet, () -> false);
            assertEquals(5, steps.get(), "await returned before the work ended");
            assertEquals(1, notes.get());
            assertTrue(w.done());
            w.await(notes::incrementAndGet, () -> false);
            assertEquals(1, notes.get(), "a second await has nothing to wait for");
        }
    }

    @Test
    void aCancelledAwaitReturnsWhileTheWorkGoesOnAndALaterOneWaitsForIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger notes = new AtomicInteger();
        try (BackgroundWarmUp w = BackgroundWarmUp.start(stop -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        })) {
            long t0 = System.nanoTime();
            java.util.concurrent.atomic.AtomicInteger asks = new java.util.concurrent.atomic.AtomicInteger();
            assertEquals(false, w.await(notes::incrementAndGet, () -> asks.incrementAndGet() > 3));
            assertTrue(asks.get() == 4 && !w.done(), "gave up at the fourth ask with the work still running");
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            Thread releaser = new Thread(() -> {
                sleep(100);
                release.countDown();
            });
            releaser.start();
            assertTrue(w.await(notes::incrementAndGet, () -> false));
            assertTrue(w.done());
            assertEquals(2, notes.get(), "each wait says so");
            assertTrue(w.await(notes::incrementAndGet, () -> true), "once done, a cancel does not matter");
        }
    }

    @Test
    void closingStopsTheWorkAtItsNextCheckAndWaitsForIt() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger checks = new AtomicInteger();
        boolean[] ended = {false};
        BackgroundWarmUp w = BackgroundWarmUp.start(stop -> {
            do {
                checks.incrementAndGet();
                started.countDown();
                sleep(1);
            } while (!stop.getAsBoolean());
            ended[0] = true;
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));
        w.close();
        assertTrue(w.done());
        assertTrue(ended[0], "the work ran to its end after the stop");
        assertTrue(checks.get() >= 1);
    }

    @Test
    void aFailedWarmUpFailsTheFirstReplyWithItsCause() {
        IllegalArgumentException cause = new IllegalArgumentException("no memory for the scratch cache");
        try (BackgroundWarmUp w = BackgroundWarmUp.start(stop -> {
            throw cause;
        })) {
            assertSame(cause, assertThrows(IllegalArgumentException.class, () -> w.await(() -> {}, () -> false)));
        }
        try (BackgroundWarmUp w = BackgroundWarmUp.start(stop -> sneaky(new java.io.IOException("disk")))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.await(() -> {}, () -> false));
            assertTrue(e.getMessage().contains("warm-up failed") && e.getCause() instanceof java.io.IOException, e.toString());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneaky(Throwable t) throws T {
        throw (T) t;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
