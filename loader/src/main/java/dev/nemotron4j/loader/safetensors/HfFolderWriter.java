package dev.nemotron4j.loader.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.RopeScaling;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Writes a Hugging Face model folder: {@code config.json} for a {@link ModelConfig} and one safetensors file. */
public final class HfFolderWriter {
    private HfFolderWriter() {
    }

    public static void write(Path dir, ModelConfig config, List<SafetensorsWriter.Entry> tensors) throws IOException {
        Files.createDirectories(dir);
        writeConfig(dir.resolve("config.json"), config);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    }

    public static void writeConfig(Path file, ModelConfig c) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode o = json.createObjectNode();
        boolean nemotron = c.architecture() == Architecture.NEMOTRON;
        o.putArray("architectures").add(nemotron ? "NemotronForCausalLM" : "LlamaForCausalLM");
        o.put("model_type", c.architecture().modelType());
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("intermediate_size", c.intermediateSize());
        o.put("num_hidden_layers", c.numLayers());
        o.put("num_attention_heads", c.numHeads());
        o.put("num_key_value_heads", c.numKvHeads());
        o.put("head_dim", c.headDim());
        o.put("max_position_embeddings", c.maxPositions());
        o.put(nemotron ? "norm_eps" : "rms_norm_eps", c.normEps());
        o.put("hidden_act", nemotron ? "relu2" : "silu");
        o.put("rope_theta", c.ropeTheta());
        o.put("partial_rotary_factor", (double) c.rotaryDim() / c.headDim());
        RopeScaling s = c.ropeScaling();
        if (c.ropeInterleaved() || (s != null && s.type() == RopeScaling.Type.FACTORS)) {
            throw new IllegalArgumentException("a Hugging Face config.json cannot express interleaved rotary pairs or "
                    + "per-dimension frequency factors (a GGUF Llama layout); write GGUF instead");
        }
        if (s != null) {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("rope_type", s.type() == RopeScaling.Type.LLAMA3 ? "llama3" : "linear");
            r.put("factor", s.factor());
            if (s.type() == RopeScaling.Type.LLAMA3) {
                r.put("low_freq_factor", s.lowFreqFactor());
                r.put("high_freq_factor", s.highFreqFactor());
                r.put("original_max_position_embeddings", s.originalMaxPositions());
            }
        }
        o.put("tie_word_embeddings", c.tieEmbeddings());
        o.put("attention_bias", false);
        o.put("mlp_bias", false);
        o.put("bos_token_id", c.bosId());
        if (c.eosIds().size() == 1) {
            o.put("eos_token_id", c.eosIds().getFirst());
        } else {
            c.eosIds().forEach(o.putArray("eos_token_id")::add);
        }
        json.writeValue(file.toFile(), o);
    }
}
