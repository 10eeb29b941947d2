package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.config.RopeScaling;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * NeMo's {@code model_config.yaml} (an OmegaConf dump, read as plain YAML with the safe constructor) →
 * {@link ModelConfig}. The vocabulary size comes from the tokenizer, not the YAML. What the engine does not
 * implement (another activation, biases, learned positions) is refused by name.
 */
public final class NemoConfigReader {
    private NemoConfigReader() {
    }

    /** The YAML as a map (descending into a top-level "model:" section when the file has one). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseYaml(byte[] yaml, String origin) {
        Object root;
        try {
            LoaderOptions opts = new LoaderOptions();
            opts.setMaxAliasesForCollections(50);
            root = new Yaml(new SafeConstructor(opts)).load(new String(yaml, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new CheckpointException(origin + ": model_config.yaml is not valid YAML: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> m)) throw new CheckpointException(origin + ": model_config.yaml is not a mapping");
        if (!m.containsKey("num_layers") && m.get("model") instanceof Map<?, ?> inner) m = inner;
        return (Map<String, Object>) m;
    }

    /** The {@code nemo:} artifact name of the tokenizer model ({@code tokenizer.model} or {@code tokenizer.tokenizer_model}). */
    public static Optional<String> tokenizerArtifact(Map<String, Object> cfg) {
        if (!(cfg.get("tokenizer") instanceof Map<?, ?> tok)) return Optional.empty();
        for (String key : List.of("model", "tokenizer_model")) {
            if (tok.get(key) instanceof String s && !s.isBlank()) {
                return Optional.of(s.startsWith("nemo:") ? s.substring(5) : s);
            }
        }
        return Optional.empty();
    }

    public static String tokenizerLibrary(Map<String, Object> cfg) {
        return cfg.get("tokenizer") instanceof Map<?, ?> tok && tok.get("library") != null
                ? String.valueOf(tok.get("library")) : "sentencepiece";
    }

    static ModelConfig toModelConfig(Map<String, Object> c, int vocabSize, int bos, int eos, String origin) {
        try {
            String pos = str(c, "position_embedding_type", "rope");
            if (!pos.equals("rope")) {
                throw new IllegalArgumentException("position_embedding_type '" + pos + "' is not implemented (only rope)");
            }
            if (bool(c, "bias", false)) {
                throw new IllegalArgumentException("bias: true (linear-layer biases) is not implemented; Nemotron has none");
            }
            String normName = str(c, "normalization", "layernorm1p").toLowerCase(Locale.ROOT);
            NormKind norm = switch (normName) {
                case "layernorm1p" -> NormKind.LAYERNORM_1P;
                case "layernorm" -> bool(c, "layernorm_zero_centered_gamma", false) ? NormKind.LAYERNORM_1P : NormKind.LAYERNORM;
                case "rmsnorm" -> NormKind.RMSNORM;
                default -> throw new IllegalArgumentException("normalization '" + normName + "' is not implemented");
            };
            String actName = str(c, "activation", "gelu").toLowerCase(Locale.ROOT);
            Activation act = switch (actName) {
                case "squared-relu", "squared_relu", "relu2" -> Activation.RELU2;
                case "swiglu", "fast-swiglu" -> Activation.SWIGLU;
                default -> throw new IllegalArgumentException("activation '" + actName
                        + "' is not implemented (supported: squared-relu, swiglu, fast-swiglu)");
            };
            Architecture arch = norm == NormKind.RMSNORM && act == Activation.SWIGLU ? Architecture.LLAMA : Architecture.NEMOTRON;
            int hidden = integer(c, "hidden_size", -1);
            int heads = integer(c, "num_attention_heads", -1);
            int groups = c.get("num_query_groups") == null ? heads : integer(c, "num_query_groups", heads);
            if (heads <= 0) throw new IllegalArgumentException("num_attention_heads must be positive");
            int headDim = c.get("kv_channels") == null ? hidden / heads : integer(c, "kv_channels", -1);
            double rotary = number(c, "rotary_percentage", 1.0);
            int maxPos = c.get("max_position_embeddings") != null ? integer(c, "max_position_embeddings", 4096)
                    : integer(c, "encoder_seq_length", 4096);
            RopeScaling scaling = null;
            if (bool(c, "scale_positional_embedding", false)) {
                scaling = RopeScaling.llama3(number(c, "scale_factor", 8), number(c, "low_freq_factor", 1),
                        number(c, "high_freq_factor", 4), integer(c, "old_context_len", 8192));
            } else if (c.get("seq_len_interpolation_factor") != null) {
                scaling = RopeScaling.linear(number(c, "seq_len_interpolation_factor", 1));
            }
            return new ModelConfig(arch, vocabSize, hidden, integer(c, "ffn_hidden_size", -1), integer(c, "num_layers", -1),
                    heads, groups, headDim, maxPos, number(c, "layernorm_epsilon", 1e-5), norm, act,
                    number(c, "rotary_base", 10000), (int) (headDim * rotary), scaling,
                    bool(c, "share_embeddings_and_output_weights", true), bos, List.of(eos));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(origin + ": model_config.yaml: " + e.getMessage(), e);
        }
    }

    private static String str(Map<String, Object> c, String k, String d) {
        Object v = c.get(k);
        return v == null ? d : String.valueOf(v);
    }

    private static boolean bool(Map<String, Object> c, String k, boolean d) {
        Object v = c.get(k);
        if (v == null) return d;
        if (v instanceof Boolean b) return b;
        throw new IllegalArgumentException(k + " must be true or false, got " + v);
    }

    private static int integer(Map<String, Object> c, String k, int d) {
        Object v = c.get(k);
        if (v == null) {
            if (d < 0) throw new IllegalArgumentException("missing " + k);
            return d;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.intValue();
        throw new IllegalArgumentException(k + " must be an integer, got " + v);
    }

    private static double number(Map<String, Object> c, String k, double d) {
        Object v = c.get(k);
        if (v == null) return d;
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException(k + " must be a number, got " + v);
    }
}
