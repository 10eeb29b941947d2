package dev.nemotron4j.bench;

import dev.nemotron4j.engine.model.KvCache;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;

/**
 * Storing the keys and values of one cache block of 16 positions (one layer, every KV head), single thread: whole
 * ({@link KvCache#storeBlock}, what prefill does for a block its batch fills) against position by position
 * ({@link KvCache#store}, decode and a batch's partial blocks). The source rows are a prefill's fused q/k/v rows.
 * Defaults: nemotron-mini-4b (24 query heads, 8 KV heads of 128).
 *
 * <pre>java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar KvStoreBench</pre>
 */
public class KvStoreBench extends KernelBench {
    @Param({"block", "positions"})
    public String mode;

    @Param({"24"})
    public int heads;

    @Param({"8"})
    public int kvHeads;

    @Param({"128"})
    public int headDim;

    private KvCache cache;
    private float[] qkv;
    private int stride, kOff, vOff;

    @Setup(Level.Trial)
    public void setUp() {
        cache = new KvCache(1, kvHeads, headDim, 4096);
        if (mode.equals("block") && !cache.blockStores()) throw new IllegalStateException("block stores need 16 float lanes");
        stride = (heads + 2 * kvHeads) * headDim;
        kOff = heads * headDim;
        vOff = kOff + kvHeads * headDim;
        qkv = new float[16 * stride];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) r.nextGaussian();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
    }

    @Benchmark
    public KvCache store16() {
        int position0 = 1024;
        if (mode.equals("block")) {
            cache.storeBlock(0, position0, qkv, kOff, vOff, stride);
        } else {
            for (int k = 0; k < 16; k++) cache.store(0, position0 + k, qkv, kOff + k * stride, vOff + k * stride);
        }
        return cache;
    }
}
