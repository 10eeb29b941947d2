package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorViews;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Megatron / NeMo tensor names and layouts → the canonical Hugging Face ones (spec §4.2, §4.3, §6). Every step
 * re-arranges views; no weight byte is copied.
 */
final class MegatronNames {
    static final String LAYERS = "model.decoder.layers.";
    private static final Pattern LAYER = Pattern.compile("^model\\.decoder\\.layers\\.(\\d+)\\.(.+)$");

    /** Pre-mcore name → mcore name (a 1:1 map with identical layouts; see NeMo's convert_gpt_nemo_to_mcore). */
    private static final List<String[]> LEGACY = List.of(
            new String[]{"^model\\.language_model\\.embedding\\.word_embeddings\\.weight$", "model.embedding.word_embeddings.weight"},
            new String[]{"^model\\.language_model\\.encoder\\.layers\\.(\\d+)\\.input_layernorm\\.(weight|bias)$",
                    LAYERS + "$1.self_attention.linear_qkv.layer_norm_$2"},
            new String[]{"^model\\.language_model\\.encoder\\.layers\\.(\\d+)\\.self_attention\\.query_key_value\\.weight$",
                    LAYERS + "$1.self_attention.linear_qkv.weight"},
            new String[]{"^model\\.language_model\\.encoder\\.layers\\.(\\d+)\\.self_attention\\.dense\\.weight$",
                    LAYERS + "$1.self_attention.linear_proj.weight"},
            new String[]{"^model\\.language_model\\.encoder\\.layers\\.(\\d+)\\.post_attention_layernorm\\.(weight|bias)$",
                    LAYERS + "$1.mlp.linear_fc1.layer_norm_$2"},
            new String[]{"^model\\.language_model\\.encoder\\.layers\\.(\\d+)\\.mlp\\.dense_h_to_4h\\.weight$",
                    LAYERS + "$1.mlp.linear_fc1.weight"},
            new String[]{"^model\\.language_model\\.encoder\\.layers\\.(\\d+)\\.mlp\\.dense_h_to_4h_2\\.weight$",
                    LAYERS + "$1.mlp.linear_fc1.weight_2"},
            new String[]{"^model\\.language_model\\.encoder\\.layers\\.(\\d+)\\.mlp\\.dense_4h_to_h\\.weight$",
                    LAYERS + "$1.mlp.linear_fc2.weight"},
            new String[]{"^model\\.language_model\\.encoder\\.final_layernorm\\.(weight|bias)$", "model.decoder.final_layernorm.$1"},
            new String[]{"^model\\.language_model\\.output_layer\\.weight$", "model.output_layer.weight"},
            // mcore "local" (non-TransformerEngine) spec keeps separate norm modules
            new String[]{"^model\\.decoder\\.layers\\.(\\d+)\\.input_layernorm\\.(weight|bias)$",
                    LAYERS + "$1.self_attention.linear_qkv.layer_norm_$2"},
            new String[]{"^model\\.decoder\\.layers\\.(\\d+)\\.pre_mlp_layernorm\\.(weight|bias)$",
                    LAYERS + "$1.mlp.linear_fc1.layer_norm_$2"});

    private MegatronNames() {
    }

    /** One state dict: drops {@code _extra_state} and rotary buffers, strips {@code model.module.}, renames legacy keys. */
    static Map<String, Tensor> normalise(Map<String, Tensor> raw) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : raw.entrySet()) {
            String name = e.getKey();
            if (name.endsWith("_extra_state") || name.contains("inv_freq")) continue;
            if (name.startsWith("model.module.")) name = "model." + name.substring("model.module.".length());
            else if (!name.startsWith("model.")) name = "model." + name;
            for (String[] rule : LEGACY) {
                if (name.matches(rule[0])) {
                    name = name.replaceAll(rule[0], rule[1]);
                    break;
                }
            }
            out.put(name, e.getValue().renamed(name));
        }
        return out;
    }

    /**
     * Tensor-parallel ranks' state dicts → the full model: column-parallel weights (qkv, fc1, embedding, output)
     * joined along rows, row-parallel ones (proj, fc2) along columns, replicated ones (norms) from rank 0.
     */
    static Map<String, Tensor> mergeTensorParallel(List<Map<String, Tensor>> ranks, boolean gated) {
        if (ranks.size() == 1) return ranks.getFirst();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : ranks.getFirst().keySet()) {
            List<Tensor> parts = new ArrayList<>();
            for (int r = 0; r < ranks.size(); r++) {
                Tensor t = ranks.get(r).get(name);
                if (t == null) {
                    throw new CheckpointException(ranks.getFirst().get(name).origin() + ": tensor '" + name
                            + "' is missing from tensor-parallel rank " + r);
                }
                parts.add(t);
            }
            Tensor merged;
            if (gated && name.endsWith("linear_fc1.weight") && !ranks.getFirst().containsKey(name + "_2")) {
                // each rank holds [gate_r; up_r]: the global fc1 is [gate_0 … gate_n; up_0 … up_n]
                List<Tensor> gates = new ArrayList<>(), ups = new ArrayList<>();
                for (Tensor t : parts) {
                    long half = t.dim(0) / 2;
                    gates.add(TensorViews.slice0(t, name, 0, half));
                    ups.add(TensorViews.slice0(t, name, half, half));
                }
                gates.addAll(ups);
                merged = TensorViews.concat(name, 0, gates);
            } else if (name.endsWith("linear_qkv.weight") || name.endsWith("linear_fc1.weight")
                    || name.endsWith("linear_fc1.weight_2") || name.endsWith("word_embeddings.weight")
                    || name.endsWith("output_layer.weight")) {
                merged = TensorViews.concat(name, 0, parts);
            } else if (name.endsWith("linear_proj.weight") || name.endsWith("linear_fc2.weight")) {
                merged = TensorViews.concat(name, 1, parts);
            } else {
                merged = parts.getFirst();
            }
            out.put(name, merged);
        }
        return out;
    }

    /** Pipeline stages' state dicts (layer indices local to each stage) → one dict with global indices. */
    static Map<String, Tensor> mergePipeline(List<Map<String, Tensor>> stages) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        int offset = 0;
        for (Map<String, Tensor> stage : stages) {
            int layers = 0;
            for (Map.Entry<String, Tensor> e : stage.entrySet()) {
                Matcher m = LAYER.matcher(e.getKey());
                String name = e.getKey();
                if (m.matches()) {
                    int local = Integer.parseInt(m.group(1));
                    layers = Math.max(layers, local + 1);
                    name = LAYERS + (local + offset) + "." + m.group(2);
                }
                out.put(name, e.getValue().renamed(name));
            }
            offset += layers;
        }
        return out;
    }

    /** Distributed checkpoints stack homogeneous layers on a leading axis ({@code model.decoder.layers.X}); split them. */
    static Map<String, Tensor> unstackLayers(Map<String, Tensor> in, int numLayers) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : in.entrySet()) {
            String name = e.getKey();
            if (name.startsWith(LAYERS) && !LAYER.matcher(name).matches()) {
                Tensor t = e.getValue();
                if (t.dim(0) != numLayers) {
                    throw new CheckpointException(t.origin() + ": layer-stacked tensor '" + name + "' has " + t.dim(0)
                            + " layers on axis 0, the config says " + numLayers);
                }
                String rest = name.substring(LAYERS.length());
                for (int l = 0; l < numLayers; l++) {
                    String n = LAYERS + l + "." + rest;
                    out.put(n, TensorViews.select0(t, n, l));
                }
            } else {
                out.put(name, e.getValue());
            }
        }
        return out;
    }

    /** mcore names → Hugging Face names, splitting the fused QKV (and gated fc1) and dropping padded vocab rows. */
    static Map<String, Tensor> toHuggingFace(Map<String, Tensor> m, ModelConfig c, String origin) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", vocabRows(require(m, "model.embedding.word_embeddings.weight", origin),
                "model.embed_tokens.weight", c, origin));
        for (int l = 0; l < c.numLayers(); l++) {
            String src = LAYERS + l + ".", dst = "model.layers." + l + ".";
            boolean bias = c.norm() != NormKind.RMSNORM;
            put(out, dst + "input_layernorm.weight", require(m, src + "self_attention.linear_qkv.layer_norm_weight", origin));
            if (bias) put(out, dst + "input_layernorm.bias", require(m, src + "self_attention.linear_qkv.layer_norm_bias", origin));
            Tensor[] qkv = TensorViews.splitFusedQkv(require(m, src + "self_attention.linear_qkv.weight", origin),
                    dst + "self_attn.q_proj.weight", dst + "self_attn.k_proj.weight", dst + "self_attn.v_proj.weight",
                    c.numHeads(), c.numKvHeads(), c.headDim());
            for (Tensor t : qkv) out.put(t.name(), t);
            put(out, dst + "self_attn.o_proj.weight", require(m, src + "self_attention.linear_proj.weight", origin));
            put(out, dst + "post_attention_layernorm.weight", require(m, src + "mlp.linear_fc1.layer_norm_weight", origin));
            if (bias) put(out, dst + "post_attention_layernorm.bias", require(m, src + "mlp.linear_fc1.layer_norm_bias", origin));
            Tensor fc1 = require(m, src + "mlp.linear_fc1.weight", origin);
            if (c.activation().gated()) {
                Tensor second = m.get(src + "mlp.linear_fc1.weight_2");
                if (second != null) {
                    put(out, dst + "mlp.gate_proj.weight", fc1);
                    put(out, dst + "mlp.up_proj.weight", second);
                } else {
                    long f = fc1.dim(0) / 2;
                    out.put(dst + "mlp.gate_proj.weight", TensorViews.slice0(fc1, dst + "mlp.gate_proj.weight", 0, f));
                    out.put(dst + "mlp.up_proj.weight", TensorViews.slice0(fc1, dst + "mlp.up_proj.weight", f, f));
                }
            } else {
                put(out, dst + "mlp.up_proj.weight", fc1);
            }
            put(out, dst + "mlp.down_proj.weight", require(m, src + "mlp.linear_fc2.weight", origin));
        }
        put(out, "model.norm.weight", require(m, "model.decoder.final_layernorm.weight", origin));
        if (c.norm() != NormKind.RMSNORM) put(out, "model.norm.bias", require(m, "model.decoder.final_layernorm.bias", origin));
        Tensor head = m.get("model.output_layer.weight");
        if (head != null) {
            out.put("lm_head.weight", vocabRows(head, "lm_head.weight", c, origin));
        } else if (!c.tieEmbeddings()) {
            throw new CheckpointException(origin + ": missing tensor 'model.output_layer.weight' "
                    + "(share_embeddings_and_output_weights is false)");
        }
        return out;
    }

    private static void put(Map<String, Tensor> out, String name, Tensor t) {
        out.put(name, t.renamed(name));
    }

    private static Tensor require(Map<String, Tensor> m, String name, String origin) {
        Tensor t = m.get(name);
        if (t == null) throw new CheckpointException(origin + ": missing tensor '" + name + "'");
        return t;
    }

    /** Megatron pads the vocabulary to a multiple of 128·TP; the padded rows are never real tokens. */
    private static Tensor vocabRows(Tensor t, String name, ModelConfig c, String origin) {
        if (t.rank() != 2 || t.dim(0) < c.vocabSize()) {
            throw new CheckpointException(origin + ": tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                    + ", expected at least " + c.vocabSize() + " rows (the tokenizer's vocabulary)");
        }
        return TensorViews.slice0(t, name, 0, c.vocabSize());
    }
}
