package dev.nemotron4j.engine.model;

import dev.nemotron4j.loader.config.Architecture;

/**
 * The canonical (Hugging Face) tensor names the engine binds. Every checkpoint format renames its tensors
 * to these; this table is the only place the engine spells a name.
 */
public record TensorNames(Architecture architecture) {

    public String embedding() {
        return "model.embed_tokens.weight";
    }

    public String finalNorm(String param) {
        return "model.norm." + param;
    }

    public String lmHead() {
        return "lm_head.weight";
    }

    public String attnNorm(int layer, String param) {
        return layer(layer) + "input_layernorm." + param;
    }

    public String mlpNorm(int layer, String param) {
        return layer(layer) + "post_attention_layernorm." + param;
    }

    /** proj is one of q_proj, k_proj, v_proj, o_proj. */
    public String attn(int layer, String proj) {
        return layer(layer) + "self_attn." + proj + ".weight";
    }

    /** proj is one of up_proj, down_proj, gate_proj (gated activations only). */
    public String mlp(int layer, String proj) {
        return layer(layer) + "mlp." + proj + ".weight";
    }

    private static String layer(int i) {
        return "model.layers." + i + ".";
    }
}
