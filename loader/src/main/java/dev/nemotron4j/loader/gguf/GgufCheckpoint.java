package dev.nemotron4j.loader.gguf;

import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.TokenizerAsset;
import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.config.RopeScaling;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorSet;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF file (llama.cpp's format) for the {@code nemotron} and {@code llama} architectures, normalised to the
 * engine's model description and canonical tensor names. The two conventions llama.cpp's converter bakes in are
 * undone here, in one place: Nemotron files already hold LayerNorm1p's +1 in their norm weights (so the norm is a
 * plain LayerNorm), and Llama files store q/k rows permuted for interleaved rotary pairs (so the rotation is
 * interleaved) with llama3 scaling as per-pair frequency factors in {@code rope_freqs.weight}.
 */
public final class GgufCheckpoint {
    private static final Pattern BLOCK = Pattern.compile("^blk\\.(\\d+)\\.(.+)$");
    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("attn_norm.weight", "input_layernorm.weight"),
            Map.entry("attn_norm.bias", "input_layernorm.bias"),
            Map.entry("attn_q.weight", "self_attn.q_proj.weight"),
            Map.entry("attn_k.weight", "self_attn.k_proj.weight"),
            Map.entry("attn_v.weight", "self_attn.v_proj.weight"),
            Map.entry("attn_output.weight", "self_attn.o_proj.weight"),
            Map.entry("ffn_norm.weight", "post_attention_layernorm.weight"),
            Map.entry("ffn_norm.bias", "post_attention_layernorm.bias"),
            Map.entry("ffn_gate.weight", "mlp.gate_proj.weight"),
            Map.entry("ffn_up.weight", "mlp.up_proj.weight"),
            Map.entry("ffn_down.weight", "mlp.down_proj.weight"));
    private static final Map<String, String> MODEL_NAMES = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output_norm.bias", "model.norm.bias",
            "output.weight", "lm_head.weight");

    private GgufCheckpoint() {
    }

    /**
     * A {@code .gguf} name, or the magic {@code GGUF} in the first four bytes whatever the name (files kept under a
     * hash, as ollama's blobs are, are GGUF files too).
     */
    public static boolean looksLikeGguf(Path path) {
        if (path.getFileName().toString().endsWith(".gguf")) return true;
        if (!java.nio.file.Files.isRegularFile(path)) return false;
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(path)) {
            byte[] magic = in.readNBytes(4);
            return java.util.Arrays.equals(magic, new byte[]{'G', 'G', 'U', 'F'});
        } catch (java.io.IOException e) {
            return false;
        }
    }

    public static Checkpoint open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            GgufFile f = GgufFile.open(path, arena);
            ModelConfig config = config(f);
            Map<String, Tensor> canonical = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : f.tensors().entrySet()) {
                String name = canonicalName(e.getKey());
                if (name != null) canonical.put(name, e.getValue().renamed(name));
            }
            TokenizerAsset tok = f.metadata().containsKey("tokenizer.ggml.model")
                    ? new TokenizerAsset(TokenizerAsset.Kind.GGUF_METADATA, path + " (GGUF tokenizer metadata)",
                    MemorySegment.NULL, null, f.metadata())
                    : null;
            String types = summariseTypes(f);
            return new Checkpoint(path, "GGUF v" + f.version() + " (" + types + ")", config, new TensorSet(canonical, path.toString()),
                    tok, arena);
        } catch (RuntimeException | Error e) {   // a stack overflow in a reader too: the mapping goes
            arena.close();
            throw e;
        }
    }

    private static String summariseTypes(GgufFile f) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        for (int t : f.ggmlTypes().values()) counts.merge(GgmlType.name(t), 1, Integer::sum);
        return counts.toString().replaceAll("[{}]", "");
    }

    static String canonicalName(String gguf) {
        if (MODEL_NAMES.containsKey(gguf)) return MODEL_NAMES.get(gguf);
        Matcher m = BLOCK.matcher(gguf);
        if (m.matches() && LAYER_NAMES.containsKey(m.group(2))) {
            return "model.layers." + m.group(1) + "." + LAYER_NAMES.get(m.group(2));
        }
        return null; // rope_freqs and anything the engine does not use
    }

    static ModelConfig config(GgufFile f) {
        Map<String, Object> m = f.metadata();
        String where = f.path().toString();
        String arch = str(m, "general.architecture", where);
        Architecture a = switch (arch) {
            case "nemotron" -> Architecture.NEMOTRON;
            case "llama" -> Architecture.LLAMA;
            default -> throw new CheckpointException(where + ": GGUF architecture '" + arch
                    + "' is not supported (nemotron, llama)");
        };
        int hidden = num(m, arch + ".embedding_length", where, -1);
        int heads = num(m, arch + ".attention.head_count", where, -1);
        int kv = num(m, arch + ".attention.head_count_kv", where, heads);
        int headDim = num(m, arch + ".attention.key_length", where, heads > 0 ? hidden / heads : -1);
        Tensor embd = f.tensors().get("token_embd.weight");
        if (embd == null) throw new CheckpointException(where + ": missing tensor 'token_embd.weight'");
        int vocab = m.containsKey(arch + ".vocab_size") ? num(m, arch + ".vocab_size", where, -1) : (int) embd.dim(0);
        int ffn = num(m, arch + ".feed_forward_length", where, -1);
        RopeScaling scaling = null;
        Tensor freqs = f.tensors().get("rope_freqs.weight");
        Object scalingType = m.get(arch + ".rope.scaling.type");
        if (freqs == null && scalingType != null && !"none".equals(scalingType) && !"linear".equals(scalingType)) {
            // read as no scaling, a model would run, and go wrong past its original context: refused instead
            throw new CheckpointException(where + ": " + arch + ".rope.scaling.type '" + scalingType
                    + "' is not supported (none, linear, or llama3 factors in rope_freqs.weight)");
        }
        try {
            if (freqs != null) {
                float[] ff = freqs.toFloatArray();
                double[] d = new double[ff.length];
                for (int i = 0; i < d.length; i++) d[i] = ff[i];
                scaling = RopeScaling.perDimension(d);
            } else if ("linear".equals(scalingType) && m.get(arch + ".rope.scaling.factor") instanceof Number fct
                    && fct.doubleValue() != 1) {
                scaling = RopeScaling.linear(fct.doubleValue());
            }
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
        boolean nemotron = a == Architecture.NEMOTRON;
        double eps = nemotron ? dbl(m, arch + ".attention.layer_norm_epsilon", where, Double.NaN)
                : dbl(m, arch + ".attention.layer_norm_rms_epsilon", where, Double.NaN);
        List<Integer> eos = List.of(num(m, "tokenizer.ggml.eos_token_id", where, nemotron ? 3 : 2));
        try {
            return new ModelConfig(a, vocab, hidden, ffn, num(m, arch + ".block_count", where, -1), heads, kv, headDim,
                    num(m, arch + ".context_length", where, -1), eps,
                    // llama.cpp's converter folds Nemotron's +1 into the stored gamma: a plain LayerNorm here
                    nemotron ? NormKind.LAYERNORM : NormKind.RMSNORM,
                    nemotron ? Activation.RELU2 : Activation.SWIGLU,
                    dbl(m, arch + ".rope.freq_base", where, 10000), num(m, arch + ".rope.dimension_count", where, headDim),
                    scaling, !f.tensors().containsKey("output.weight"),
                    num(m, "tokenizer.ggml.bos_token_id", where, nemotron ? 2 : 1), eos,
                    // llama.cpp's Llama converter permutes q/k rows for interleaved rotary pairs; Nemotron keeps rotate-half
                    !nemotron);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
    }

    private static String str(Map<String, Object> m, String key, String where) {
        if (m.get(key) instanceof String s) return s;
        throw new CheckpointException(where + ": GGUF metadata '" + key + "' is missing or not a string");
    }

    private static int num(Map<String, Object> m, String key, String where, int dflt) {
        Object v = m.get(key);
        if (v == null) {
            if (dflt < 0) throw new CheckpointException(where + ": GGUF metadata '" + key + "' is missing");
            return dflt;
        }
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return (int) (long) l;
        throw new CheckpointException(where + ": GGUF metadata '" + key + "' is " + v + ", expected an integer");
    }

    private static double dbl(Map<String, Object> m, String key, String where, double dflt) {
        Object v = m.get(key);
        if (v == null) {
            if (Double.isNaN(dflt)) throw new CheckpointException(where + ": GGUF metadata '" + key + "' is missing");
            return dflt;
        }
        if (v instanceof Number n) return n.doubleValue();
        throw new CheckpointException(where + ": GGUF metadata '" + key + "' is " + v + ", expected a number");
    }
}
