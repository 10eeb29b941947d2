package dev.nemotron4j.bench;

import dev.nemotron4j.engine.kernels.Attention;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * One attention tile over one KV head's cache, single thread: {@code heads} query heads × {@code tokens} tokens after
 * {@code depth} cached positions. tokens = 1 is a decode step of a model with {@code heads} query heads per KV head
 * (3 for nemotron-mini-4b); tokens = 4 is a prefill tile. Multiply-adds per call: 2 · heads · Σ_t (depth + t + 1) ·
 * headDim; compare with the F32 FMA peak.
 *
 * <pre>java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar AttentionBench</pre>
 */
public class AttentionBench extends KernelBench {
    @Param({"512", "2048"})
    public int depth;

    @Param({"1", "4"})
    public int tokens;

    @Param({"3"})
    public int heads;

    @Param({"128"})
    public int headDim;

    private Arena arena;
    private MemorySegment keys, values;
    private float[] q, scores, out;

    @Setup(Level.Trial)
    public void setUp() {
        int positions = depth + tokens;
        arena = Arena.ofShared();
        long bytes = 4L * Attention.slots(positions) * headDim;
        keys = arena.allocate(bytes, 64);
        values = arena.allocate(bytes, 64);
        SplittableRandom r = new SplittableRandom(3);
        for (int p = 0; p < positions; p++) {
            for (int d = 0; d < headDim; d++) {
                keys.set(ValueLayout.JAVA_FLOAT, Attention.keyOffset(p, d, headDim), (float) r.nextGaussian());
                values.set(ValueLayout.JAVA_FLOAT, 4L * ((long) p * headDim + d), (float) r.nextGaussian());
            }
        }
        q = new float[tokens * heads * headDim];
        for (int i = 0; i < q.length; i++) q[i] = (float) r.nextGaussian();
        scores = new float[Attention.scratchSize(heads * tokens, positions)];
        out = new float[q.length];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] tile() {
        Attention.attendShared(q, 0, heads * headDim, heads, tokens, depth, keys, values, 0, headDim,
                (float) (1 / Math.sqrt(headDim)), scores, out, 0, heads * headDim);
        return out;
    }
}
