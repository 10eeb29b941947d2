package dev.nemotron4j.tools.convert;

import dev.nemotron4j.engine.GgufTokenizers;
import dev.nemotron4j.engine.ModelTokenizers;
import dev.nemotron4j.engine.kernels.WeightMatrix;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.config.RopeScaling;
import dev.nemotron4j.loader.gguf.GgmlType;
import dev.nemotron4j.loader.gguf.GgufWriter;
import dev.nemotron4j.loader.gguf.QuantCodec;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes any opened checkpoint as a GGUF file that llama.cpp loads: its tensor names and metadata keys, its
 * conventions (Nemotron: LayerNorm1p's +1 folded into the norm weights; Llama: q/k rows permuted for interleaved
 * rotary pairs, llama3 scaling as a {@code rope_freqs} tensor), norms in F32, matrices in the target type — for
 * Q4_0 the output layer in Q6_K as llama.cpp does. Streams row by row: memory stays at one row.
 */
public final class GgufExporter {
    public enum Target {
        BF16(DType.BF16, 32), F16(DType.F16, 1), Q8_0(DType.Q8_0, 7), Q4_0(DType.Q4_0, 2), F32(DType.F32, 0);

        final DType type;
        final int fileType;

        Target(DType type, int fileType) {
            this.type = type;
            this.fileType = fileType;
        }

        /** The matrices' type (Q4_0 files keep the output layer in Q6_K). */
        public DType type() {
            return type;
        }
    }

    private GgufExporter() {
    }

    /**
     * What an export reads, by Hugging Face tensor name: an opened checkpoint ({@link #of}), or weights made as they
     * are written (random-model's, so that a random GGUF needs no temporary folder).
     */
    public interface Weights {
        boolean has(String name);

        /** A norm's weight or bias, as the Hugging Face layout stores it (LayerNorm1p: gamma − 1). */
        float[] vector(String name);

        /** A matrix; its rows are read once each, in any order. */
        Rows matrix(String name);
    }

    /** A matrix of {@code rows × cols} floats, read row by row through {@code reader}. */
    public record Rows(int rows, int cols, RowReader reader) {
        void readRow(int row, float[] dst) {
            reader.read(row, dst);
        }
    }

    /** Fills {@code dst} with a matrix's row {@code row}. */
    @FunctionalInterface
    public interface RowReader {
        void read(int row, float[] dst);
    }

    /** An opened checkpoint's tensors as {@link Weights}. */
    public static Weights of(Checkpoint ck) {
        return new Weights() {
            @Override
            public boolean has(String name) {
                return ck.tensors().contains(name);
            }

            @Override
            public float[] vector(String name) {
                return ck.tensors().require(name).toFloatArray();
            }

            @Override
            public Rows matrix(String name) {
                WeightMatrix m = WeightMatrix.of(ck.tensors().require(name));
                return new Rows(m.rows(), m.cols(), (row, dst) -> m.readRow(row, dst, 0));
            }
        };
    }

    /** {@code ck} as a GGUF file: its tokenizer as the vocabulary (a placeholder where it has none). */
    public static void export(Checkpoint ck, Path out, Target target, GgufWriter.Progress progress) throws IOException {
        requireGgufMlp(ck.config()); // before the tokenizer is converted
        Map<String, Object> vocabulary;
        Optional<Tokenizer> tok = ModelTokenizers.open(ck);
        try {
            vocabulary = tok.isPresent() ? GgufTokenizers.toMetadata(tok.get(), ck.config().vocabSize())
                    : placeholderVocabulary(ck.config().vocabSize());
        } finally {
            tok.ifPresent(Tokenizer::close);
        }
        export(ck.config(), ck.path().getFileName().toString(), vocabulary, of(ck), out, target, progress);
    }

    /**
     * A model of {@code config} named {@code name} as a GGUF file: {@code vocabulary} as its tokenizer metadata, the
     * tensors read from {@code w} as each is written.
     */
    public static void export(ModelConfig c, String name, Map<String, Object> vocabulary, Weights w, Path out,
                              Target target, GgufWriter.Progress progress) throws IOException {
        requireGgufMlp(c);
        boolean nemotron = c.architecture() == Architecture.NEMOTRON;
        String arch = c.architecture().modelType();
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", arch);
        meta.put("general.name", name);
        meta.put("general.alignment", GgufWriter.ALIGNMENT);
        meta.put("general.file_type", target.fileType);
        meta.put("general.quantization_version", 2);
        meta.put(arch + ".vocab_size", c.vocabSize());
        meta.put(arch + ".context_length", c.maxPositions());
        meta.put(arch + ".embedding_length", c.hiddenSize());
        meta.put(arch + ".block_count", c.numLayers());
        meta.put(arch + ".feed_forward_length", c.intermediateSize());
        meta.put(arch + ".attention.head_count", c.numHeads());
        meta.put(arch + ".attention.head_count_kv", c.numKvHeads());
        meta.put(arch + ".attention.key_length", c.headDim());
        meta.put(arch + ".attention.value_length", c.headDim());
        meta.put(arch + ".rope.dimension_count", c.rotaryDim());
        meta.put(arch + ".rope.freq_base", c.ropeTheta());
        meta.put(arch + (nemotron ? ".attention.layer_norm_epsilon" : ".attention.layer_norm_rms_epsilon"), c.normEps());
        if (c.ropeScaling() != null && c.ropeScaling().type() == RopeScaling.Type.LINEAR) {
            meta.put(arch + ".rope.scaling.type", "linear");
            meta.put(arch + ".rope.scaling.factor", c.ropeScaling().factor());
        } else if (nemotron) {
            meta.put(arch + ".rope.scaling.type", "none");
        }
        meta.putAll(vocabulary);
        meta.put("tokenizer.ggml.bos_token_id", c.bosId());
        meta.put("tokenizer.ggml.eos_token_id", c.eosIds().getFirst());
        meta.put("tokenizer.ggml.add_bos_token", !nemotron); // NeMo prompts carry no BOS; Llama 3's do

        List<GgufWriter.Entry> entries = new ArrayList<>();
        double[] ropeFactors = ropeFactors(c);
        if (ropeFactors != null) {
            float[] f = new float[ropeFactors.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) ropeFactors[i];
            entries.add(floats("rope_freqs.weight", f));
        }
        entries.add(matrix(w, "model.embed_tokens.weight", "token_embd.weight", target.type, null));
        int[] qPerm = permutation(c, c.numHeads()), kPerm = permutation(c, c.numKvHeads());   // the same for every layer
        for (int l = 0; l < c.numLayers(); l++) {
            String s = "model.layers." + l + ".", d = "blk." + l + ".";
            norm(entries, w, c, s + "input_layernorm", d + "attn_norm");
            entries.add(matrix(w, s + "self_attn.q_proj.weight", d + "attn_q.weight", target.type, qPerm));
            entries.add(matrix(w, s + "self_attn.k_proj.weight", d + "attn_k.weight", target.type, kPerm));
            entries.add(matrix(w, s + "self_attn.v_proj.weight", d + "attn_v.weight", target.type, null));
            entries.add(matrix(w, s + "self_attn.o_proj.weight", d + "attn_output.weight", target.type, null));
            norm(entries, w, c, s + "post_attention_layernorm", d + "ffn_norm");
            if (!nemotron) entries.add(matrix(w, s + "mlp.gate_proj.weight", d + "ffn_gate.weight", target.type, null));
            entries.add(matrix(w, s + "mlp.up_proj.weight", d + "ffn_up.weight", target.type, null));
            entries.add(matrix(w, s + "mlp.down_proj.weight", d + "ffn_down.weight", target.type, null));
        }
        norm(entries, w, c, "model.norm", "output_norm");
        String head = w.has("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight";
        if (nemotron || w.has("lm_head.weight")) { // llama.cpp's Nemotron requires an output tensor
            DType outType = target == Target.Q4_0 ? DType.Q6_K : target.type;
            entries.add(matrix(w, head, "output.weight", outType, null));
        }
        GgufWriter.write(out, meta, entries, progress);
    }

    /** llama.cpp's {@code nemotron} architecture has squared-ReLU MLPs, its {@code llama} one SwiGLU. */
    private static void requireGgufMlp(ModelConfig c) {
        boolean nemotron = c.architecture() == Architecture.NEMOTRON;
        if (!c.activation().gated() != nemotron) {
            throw new IllegalArgumentException("a " + c.architecture().modelType() + " GGUF needs "
                    + (nemotron ? "squared-ReLU" : "SwiGLU") + " MLPs");
        }
    }

    /**
     * llama.cpp will not load a GGUF without a vocabulary. For a source that has none (random-weight benchmark
     * models, tokenizer-less test checkpoints) this writes a placeholder SentencePiece-style one of the right size:
     * {@code <pad> <unk> <s> </s>}, the 256 byte pieces, then filler pieces. Token ids still mean what they meant.
     */
    public static Map<String, Object> placeholderVocabulary(int vocab) {
        List<String> tokens = new ArrayList<>(vocab);
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            String t;
            int type = 1;
            if (i < 4) {
                t = new String[]{"<pad>", "<unk>", "<s>", "</s>"}[i];
                type = i == 1 ? 2 : 3;
            } else if (i < 260) {
                t = String.format("<0x%02X>", i - 4);
                type = 6;
            } else {
                t = "\u2581t" + i;
            }
            tokens.add(t);
            scores[i] = -i;
            types[i] = type;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", "llama");
        m.put("tokenizer.ggml.pre", "default");
        m.put("tokenizer.ggml.tokens", tokens);
        m.put("tokenizer.ggml.scores", scores);
        m.put("tokenizer.ggml.token_type", types);
        m.put("tokenizer.ggml.unknown_token_id", 1);
        m.put("tokenizer.ggml.padding_token_id", 0);
        return m;
    }

    /** llama3 scaling as llama.cpp stores it: per pair j, original frequency ÷ scaled frequency. */
    private static double[] ropeFactors(ModelConfig c) {
        RopeScaling s = c.ropeScaling();
        if (s == null || s.type() == RopeScaling.Type.LINEAR) return null;
        if (s.type() == RopeScaling.Type.FACTORS) return s.factors();
        double[] f = new double[c.rotaryDim() / 2];
        for (int j = 0; j < f.length; j++) {
            double inv = 1.0 / Math.pow(c.ropeTheta(), 2.0 * j / c.rotaryDim());
            f[j] = inv / s.scale(j, inv);
        }
        return f;
    }

    /**
     * llama.cpp's Llama layout pairs rotary dims (2i, 2i+1); Hugging Face pairs (i, i+hd/2). GGUF row
     * h·hd + 2i + j holds source row h·hd + j·hd/2 + i. Null when no reordering is needed.
     */
    private static int[] permutation(ModelConfig c, int heads) {
        if (c.architecture() != Architecture.LLAMA || c.ropeInterleaved()) return null;
        int hd = c.headDim();
        int[] p = new int[heads * hd];
        for (int r = 0; r < p.length; r++) {
            int h = r / hd, w = r % hd;
            p[r] = h * hd + (w % 2) * (hd / 2) + w / 2;
        }
        return p;
    }

    private static void norm(List<GgufWriter.Entry> out, Weights weights, ModelConfig c, String src, String dst) {
        float[] w = weights.vector(src + ".weight");
        if (c.norm() == NormKind.LAYERNORM_1P) {
            for (int i = 0; i < w.length; i++) w[i] += 1f; // GGUF stores the full gamma
        }
        out.add(floats(dst + ".weight", w));
        if (c.norm() != NormKind.RMSNORM) out.add(floats(dst + ".bias", weights.vector(src + ".bias")));
    }

    private static GgufWriter.Entry floats(String name, float[] v) {
        return new GgufWriter.Entry(name, GgmlType.F32, new long[]{v.length}, 4L * v.length, o -> {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) b.putFloat(f);
            o.write(b.array());
        });
    }

    private static GgufWriter.Entry matrix(Weights w, String src, String dst, DType want, int[] rowOrder) {
        Rows m = w.matrix(src);
        int cols = m.cols();
        DType type = want;
        if (cols % type.blockSize() != 0) type = cols % 32 == 0 ? DType.Q8_0 : DType.F32; // rows too short for the blocks
        DType chosen = type;
        long rowBytes = chosen.bytesFor(cols);
        return new GgufWriter.Entry(dst, GgmlType.of(chosen), new long[]{m.rows(), cols}, rowBytes * m.rows(), o -> {
            float[] row = new float[cols];
            ByteBuffer buf = ByteBuffer.allocate((int) rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < m.rows(); r++) {
                m.readRow(rowOrder == null ? r : rowOrder[r], row);
                buf.clear();
                if (chosen.blockSize() > 1) QuantCodec.quantize(chosen, row, 0, cols, buf);
                else for (float f : row) chosen.put(buf, f);
                o.write(buf.array(), 0, buf.position());
            }
        });
    }
}
