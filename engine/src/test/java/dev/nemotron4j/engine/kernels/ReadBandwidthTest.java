package dev.nemotron4j.engine.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class ReadBandwidthTest {
    @Test
    void theSumReadsEveryLongOfItsRangeAndNothingElse() {
        int longs = 4096;
        MemorySegment m = Arena.ofAuto().allocate(8L * longs, 64);
        for (int i = 0; i < longs; i++) m.setAtIndex(ValueLayout.JAVA_LONG, i, i + 1);
        assertEquals((long) longs * (longs + 1) / 2, ReadBandwidth.sum(m, 0, 8L * longs), "whole buffer");
        // a range of whole steps in the middle: longs [1024, 3072)
        long expected = 0;
        for (int i = 1024; i < 3072; i++) expected += i + 1;
        assertEquals(expected, ReadBandwidth.sum(m, 8L * 1024, 8L * 3072), "middle range");
    }

    @Test
    void aProbeOverThePoolMeasuresAFiniteRateOverItsWholeBuffer() {
        try (WorkerPool pool = new WorkerPool(2)) {
            ReadBandwidth probe = ReadBandwidth.over(pool, (6L << 20) + 100).orElseThrow();
            assertEquals(6L << 20, probe.bytes(), "whole 2 MB pieces");
            assertEquals(4L << 20, ReadBandwidth.over(pool, 1).orElseThrow().bytes(), "at least a piece per thread");
            double gbs = probe.gigabytesPerSecond(2);
            assertTrue(gbs > 0 && Double.isFinite(gbs), "rate " + gbs);
        }
    }
}
