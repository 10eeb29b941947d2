package dev.nemotron4j.loader.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.loader.CheckpointException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a Hugging Face {@code config.json} ({@code model_type} {@code nemotron} or {@code llama}) into a
 * {@link ModelConfig}. Accepts the aliases different converters wrote (see spec §1.2) and refuses, by
 * name, what the engine does not implement.
 */
public final class HfConfigReader {
    private HfConfigReader() {
    }

    public static ModelConfig read(Path configJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                    ? j.getOriginalMessage() + (j.getLocation() != null
                    ? " at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() : "")
                    : e.getMessage();
            throw new CheckpointException(configJson + ": not valid JSON: " + why, e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(configJson + ": not a JSON object");
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(configJson + ": " + e.getMessage(), e);
        }
    }

    static ModelConfig parse(JsonNode c) {
        String modelType = text(c, "model_type", null);
        if (modelType == null) {
            throw new IllegalArgumentException("no \"model_type\" (expected \"nemotron\" or \"llama\")");
        }
        Architecture arch = switch (modelType.toLowerCase(Locale.ROOT)) {
            case "nemotron" -> Architecture.NEMOTRON;
            case "llama" -> Architecture.LLAMA;
            default -> throw new IllegalArgumentException("unsupported model_type \"" + modelType
                    + "\" (this engine runs \"nemotron\" and \"llama\")");
        };
        JsonNode ropeParams = c.path("rope_parameters");

        int hidden = integer(c, "hidden_size", -1);
        int heads = integer(c, "num_attention_heads", -1);
        int kvHeads = c.hasNonNull("num_key_value_heads") ? integer(c, "num_key_value_heads", heads) : heads;
        int headDim;
        if (c.hasNonNull("head_dim")) {
            headDim = integer(c, "head_dim", -1);
        } else if (c.hasNonNull("kv_channels")) {
            headDim = integer(c, "kv_channels", -1);
        } else {
            if (heads <= 0 || hidden % heads != 0) {
                throw new IllegalArgumentException("no head_dim and hidden_size " + hidden
                        + " is not a multiple of num_attention_heads " + heads);
            }
            headDim = hidden / heads;
        }

        String act = text(c, "hidden_act", arch == Architecture.NEMOTRON ? "relu2" : "silu");
        Activation activation = switch (act.toLowerCase(Locale.ROOT)) {
            case "relu2", "squared-relu", "squared_relu" -> Activation.RELU2;
            case "silu", "swish" -> arch == Architecture.LLAMA ? Activation.SWIGLU : null;
            default -> null;
        };
        if (activation == null) {
            throw new IllegalArgumentException("hidden_act \"" + act + "\" is not implemented for model_type \""
                    + modelType + "\"");
        }
        for (String biasKey : List.of("attention_bias", "mlp_bias")) {
            if (c.path(biasKey).asBoolean(false)) {
                throw new IllegalArgumentException(biasKey + " = true is not implemented (Nemotron and Llama have no linear biases)");
            }
        }

        double partial;
        if (c.hasNonNull("partial_rotary_factor")) {
            partial = c.get("partial_rotary_factor").asDouble();
        } else if (c.hasNonNull("rope_percentage")) {
            partial = c.get("rope_percentage").asDouble();
        } else if (ropeParams.hasNonNull("partial_rotary_factor")) {
            partial = ropeParams.get("partial_rotary_factor").asDouble();
        } else {
            partial = arch == Architecture.NEMOTRON ? 0.5 : 1.0;
        }
        if (!(partial > 0 && partial <= 1)) {
            throw new IllegalArgumentException("partial_rotary_factor " + partial + " is outside (0, 1]");
        }
        int rotaryDim = (int) (headDim * partial);
        double theta = number(c.hasNonNull("rope_theta") ? c : ropeParams, "rope_theta", 10000.0);
        if (!(theta > 0) || Double.isInfinite(theta)) throw new IllegalArgumentException("rope_theta must be a positive number, got " + theta);

        double eps;
        if (arch == Architecture.LLAMA) {
            eps = number(c, "rms_norm_eps", 1e-6);
        } else {
            eps = c.hasNonNull("norm_eps") ? c.get("norm_eps").asDouble()
                    : c.hasNonNull("layer_norm_eps") ? c.get("layer_norm_eps").asDouble()
                    : number(c, "layernorm_epsilon", 1e-5);
        }

        RopeScaling scaling = parseRopeScaling(c.hasNonNull("rope_scaling") ? c.get("rope_scaling")
                : ropeParams.isObject() ? ropeParams : null);

        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = c.get("eos_token_id");
        if (eosNode != null && eosNode.isArray()) {
            eosNode.forEach(n -> eos.add(n.asInt()));
        } else if (eosNode != null && eosNode.isIntegralNumber()) {
            eos.add(eosNode.asInt());
        } else {
            eos.add(arch == Architecture.NEMOTRON ? 3 : 128001);
        }
        int bos = c.hasNonNull("bos_token_id") ? c.get("bos_token_id").asInt() : (arch == Architecture.NEMOTRON ? 2 : 128000);

        return new ModelConfig(arch,
                integer(c, "vocab_size", -1),
                hidden,
                integer(c, "intermediate_size", -1),
                integer(c, "num_hidden_layers", -1),
                heads, kvHeads, headDim,
                integer(c, "max_position_embeddings", 4096),
                eps,
                arch.defaultNorm(),
                activation,
                theta,
                rotaryDim,
                scaling,
                c.path("tie_word_embeddings").asBoolean(false),
                bos,
                eos);
    }

    private static RopeScaling parseRopeScaling(JsonNode s) {
        if (s == null || s.isNull()) return null;
        if (!s.isObject()) throw new IllegalArgumentException("rope_scaling is not an object");
        String type = text(s, "rope_type", text(s, "type", "default"));
        return switch (type.toLowerCase(Locale.ROOT)) {
            case "default" -> null;
            case "linear" -> RopeScaling.linear(number(s, "factor", 1.0));
            case "llama3" -> RopeScaling.llama3(number(s, "factor", 8.0), number(s, "low_freq_factor", 1.0),
                    number(s, "high_freq_factor", 4.0), integer(s, "original_max_position_embeddings", 8192));
            default -> throw new IllegalArgumentException("rope_scaling type \"" + type
                    + "\" is not implemented (supported: default, linear, llama3)");
        };
    }

    private static String text(JsonNode n, String key, String dflt) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static int integer(JsonNode n, String key, int dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (dflt < 0) throw new IllegalArgumentException("missing \"" + key + "\"");
            return dflt;
        }
        if (!v.canConvertToInt() || !(v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble())))) {
            throw new IllegalArgumentException("\"" + key + "\" must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static double number(JsonNode n, String key, double dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new IllegalArgumentException("\"" + key + "\" must be a number, got " + v);
        return v.asDouble();
    }
}
