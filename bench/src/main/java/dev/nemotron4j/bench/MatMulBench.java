package dev.nemotron4j.bench;

import dev.nemotron4j.engine.kernels.MatMul;
import dev.nemotron4j.engine.kernels.WeightMatrix;
import dev.nemotron4j.engine.kernels.WorkerPool;
import dev.nemotron4j.loader.gguf.QuantCodec;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Matrix × activations over off-heap weights: tokens = 1 is decode (memory-bound: compare bytes/s with the
 * machine's bandwidth), tokens = 16 is prefill (compute-bound: compare FLOP/s).
 *
 * <pre>java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar MatMulBench</pre>
 */
public class MatMulBench extends KernelBench {
    @Param({"F32", "BF16", "F16", "Q8_0", "Q4_0", "Q6_K"})
    public DType dtype;

    @Param({"1", "16"})
    public int tokens;

    @Param({"2"})
    public int threads;

    /** 4096 × 1024: the shape of nemotron-small's FFN up projection, 8 MB of BF16 (beyond L2). */
    @Param({"4096"})
    public int rows;

    @Param({"1024"})
    public int cols;

    private Arena arena;
    private WeightMatrix w;
    private WorkerPool pool;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(dtype.bytesFor((long) rows * cols), 64);
        SplittableRandom r = new SplittableRandom(1);
        if (dtype.blockSize() > 1) {
            // block formats get real blocks (scales of a std-0.02 weight, as in a model): random bytes would make
            // some half-precision scales subnormal, which x86 multiplies through a slow microcode assist
            float[] row = new float[cols];
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) dtype.bytesFor(cols)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < cols; c++) row[c] = (float) (0.02 * r.nextGaussian());
                buf.clear();
                QuantCodec.quantize(dtype, row, 0, cols, buf);
                MemorySegment.copy(MemorySegment.ofArray(buf.array()), 0, seg, i * dtype.bytesFor(cols), dtype.bytesFor(cols));
            }
        } else {
            for (long i = 0; i < seg.byteSize(); i++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (r.nextInt(64)));
        }
        w = WeightMatrix.of(Tensor.contiguous("w", dtype, new long[]{rows, cols}, seg, "bench"));
        pool = new WorkerPool(threads);
        x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        out = new float[tokens * rows];
    }

    @Benchmark
    public float[] matmul() {
        MatMul.apply(w, x, tokens, out, pool);
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }
}
