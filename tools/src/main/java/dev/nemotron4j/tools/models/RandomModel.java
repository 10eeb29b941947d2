package dev.nemotron4j.tools.models;

import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.gguf.GgufWriter;
import dev.nemotron4j.loader.safetensors.HfFolderWriter;
import dev.nemotron4j.loader.safetensors.SafetensorsWriter;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.tools.convert.GgufExporter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random weights in a model's shapes (matrices uniform with standard deviation {@code std}, norms the identity),
 * made row by row as they are written, so a model larger than memory can be made: as a Hugging Face folder
 * ({@link #write}) or, through {@link #weights}, straight into a GGUF file. Deterministic for a seed, and the same
 * values either way: each row has a generator of its own, seeded from the tensor's seed and the row's index, so a
 * GGUF export that reorders rows (Llama's q/k permutation) still reads the folder's values.
 */
public final class RandomModel {
    private RandomModel() {
    }

    /** One tensor: a random matrix ({@code seed}) or a norm vector filled with {@code constant}. */
    private record Spec(String name, long[] shape, boolean random, long seed, float constant) {
        int rows() {
            return (int) shape[0];
        }

        int cols() {
            return shape.length == 1 ? (int) shape[0] : (int) shape[1];
        }
    }

    /** The tensors of {@code c} in the order the folder stores them, Hugging Face names. */
    private static List<Spec> specs(ModelConfig c, long seed) {
        List<Spec> e = new ArrayList<>();
        long h = c.hiddenSize();
        long[] seeds = new SplittableRandom(seed).longs(8L * c.numLayers() + 8).toArray();
        int[] next = {0};
        java.util.function.BiFunction<String, long[], Spec> matrix = (name, shape) -> new Spec(name, shape, true,
                seeds[next[0]++], 0);
        e.add(matrix.apply("model.embed_tokens.weight", new long[]{c.vocabSize(), h}));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            norm(e, p + "input_layernorm", c);
            e.add(matrix.apply(p + "self_attn.q_proj.weight", new long[]{c.qDim(), h}));
            e.add(matrix.apply(p + "self_attn.k_proj.weight", new long[]{c.kvDim(), h}));
            e.add(matrix.apply(p + "self_attn.v_proj.weight", new long[]{c.kvDim(), h}));
            e.add(matrix.apply(p + "self_attn.o_proj.weight", new long[]{h, c.qDim()}));
            norm(e, p + "post_attention_layernorm", c);
            if (c.activation().gated()) e.add(matrix.apply(p + "mlp.gate_proj.weight", new long[]{c.intermediateSize(), h}));
            e.add(matrix.apply(p + "mlp.up_proj.weight", new long[]{c.intermediateSize(), h}));
            e.add(matrix.apply(p + "mlp.down_proj.weight", new long[]{h, c.intermediateSize()}));
        }
        norm(e, "model.norm", c);
        if (!c.tieEmbeddings()) e.add(matrix.apply("lm_head.weight", new long[]{c.vocabSize(), h}));
        return e;
    }

    private static void norm(List<Spec> e, String prefix, ModelConfig c) {
        long[] shape = {c.hiddenSize()};
        // LayerNorm1p stores gamma − 1 (so 0 means identity); RMSNorm stores gamma itself.
        e.add(new Spec(prefix + ".weight", shape, false, 0, c.norm() == NormKind.LAYERNORM_1P ? 0f : 1f));
        if (c.norm() != NormKind.RMSNORM) e.add(new Spec(prefix + ".bias", shape, false, 0, 0f));
    }

    /** A Hugging Face folder of {@code c}'s shapes: matrices in {@code dtype}, norms in F32. */
    public static void write(Path dir, ModelConfig c, DType dtype, double std, long seed) throws IOException {
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        for (Spec s : specs(c, seed)) {
            if (s.random()) e.add(new SafetensorsWriter.Entry(s.name(), dtype, s.shape(), out -> {
                float[] row = new float[s.cols()];
                ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                for (int r = 0; r < s.rows(); r++) {
                    row(s.seed(), r, std, row);
                    for (float v : row) {
                        dtype.put(buf, v);
                        if (!buf.hasRemaining()) {
                            out.write(buf.array(), 0, buf.position());
                            buf.clear();
                        }
                    }
                }
                out.write(buf.array(), 0, buf.position());
            }));
            else e.add(new SafetensorsWriter.Entry(s.name(), DType.F32, s.shape(), out -> {
                ByteBuffer b = ByteBuffer.allocate(4 * s.cols()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < s.cols(); i++) b.putFloat(s.constant());
                out.write(b.array());
            }));
        }
        HfFolderWriter.write(dir, c, e);
    }

    /**
     * The same tensors as {@link #write} writes, for {@link GgufExporter#export(ModelConfig, String, Map,
     * GgufExporter.Weights, Path, GgufExporter.Target, GgufWriter.Progress)}: each row made when it is read.
     */
    public static GgufExporter.Weights weights(ModelConfig c, double std, long seed) {
        Map<String, Spec> byName = new LinkedHashMap<>();
        for (Spec s : specs(c, seed)) byName.put(s.name(), s);
        return new GgufExporter.Weights() {
            @Override
            public boolean has(String name) {
                return byName.containsKey(name);
            }

            @Override
            public float[] vector(String name) {
                Spec s = spec(name, false);
                float[] v = new float[s.cols()];
                java.util.Arrays.fill(v, s.constant());
                return v;
            }

            @Override
            public GgufExporter.Rows matrix(String name) {
                Spec s = spec(name, true);
                return new GgufExporter.Rows(s.rows(), s.cols(), (row, dst) -> row(s.seed(), row, std, dst));
            }

            private Spec spec(String name, boolean random) {
                Spec s = byName.get(name);
                if (s == null || s.random() != random) {
                    throw new IllegalArgumentException("no random " + (random ? "matrix" : "vector") + " " + name);
                }
                return s;
            }
        };
    }

    /**
     * Row {@code r} of the matrix seeded {@code seed}: uniform on [−a, a] with a = std·√3, so the standard deviation
     * is {@code std}. The row's generator is seeded by a 64-bit mix of both (consecutive seeds would give streams
     * shifted by one draw against each other).
     */
    private static void row(long seed, int r, double std, float[] dst) {
        SplittableRandom random = new SplittableRandom(mix(seed + 0x9E3779B97F4A7C15L * (r + 1L)));
        double a = std * Math.sqrt(3);
        for (int i = 0; i < dst.length; i++) dst[i] = (float) ((random.nextDouble() * 2 - 1) * a);
    }

    /** A 64-bit finalizer (xor-shift-multiply, the constants of MurmurHash3's fmix64). */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb93fe53e94d3L;
        return z ^ (z >>> 33);
    }
}
