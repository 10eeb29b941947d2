package dev.nemotron4j.loader.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.TokenizerAsset;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Writes any opened checkpoint as a Hugging Face folder (config.json, safetensors shards under the canonical
 * names with q/k/v split, and the tokenizer), streaming tensor by tensor from the mapped source.
 */
public final class HfExporter {
    private HfExporter() {
    }

    /**
     * Whether {@code name} is a norm's gamma that must be written less one: a Hugging Face "nemotron" config is read as
     * LayerNorm1p (gamma + 1 at run time), so a Nemotron checkpoint whose norms hold the full gamma (a plain LayerNorm:
     * a GGUF, where llama.cpp's converter folds the +1 in) is written with it taken out again.
     */
    static boolean gammaShifted(ModelConfig c, String name) {
        return c.architecture() == Architecture.NEMOTRON && c.norm() == NormKind.LAYERNORM
                && (name.endsWith("layernorm.weight") || name.equals("model.norm.weight"));
    }

    /** The tensor's values less one, in its own type (F32, F16 or BF16). */
    private static SafetensorsWriter.Source minusOne(Tensor t) {
        return out -> {
            if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
                throw new IOException(t.origin() + ": norm weight '" + t.name() + "' is " + t.dtype() + "; expected F32, F16 or BF16");
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) t.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (float f : t.toFloatArray()) t.dtype().put(b, f - 1f);
            out.write(b.array());
        };
    }

    /** @param progress told the bytes written so far after each tensor (may be null) */
    public static void export(Checkpoint ck, Path out, long shardBytes, LongConsumer progress) throws IOException {
        Files.createDirectories(out);
        HfFolderWriter.writeConfig(out.resolve("config.json"), ck.config());
        List<List<Tensor>> shards = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long size = 0, total = 0;
        for (Tensor t : ck.tensors().all().values()) {
            if (!current.isEmpty() && size + t.byteSize() > shardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(t);
            size += t.byteSize();
            total += t.byteSize();
        }
        if (!current.isEmpty()) shards.add(current);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        long written = 0;
        for (int s = 0; s < shards.size(); s++) {
            String file = shards.size() == 1 ? "model.safetensors"
                    : String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (Tensor t : shards.get(s)) {
                entries.add(new SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(),
                        gammaShifted(ck.config(), t.name()) ? minusOne(t) : SafetensorsWriter.copyOf(t)));
                map.put(t.name(), file);
            }
            SafetensorsWriter.write(out.resolve(file), entries, Map.of("format", "pt", "converted_from", ck.path().toString()));
            for (Tensor t : shards.get(s)) written += t.byteSize();
            if (progress != null) progress.accept(written);
        }
        if (shards.size() > 1) json.writeValue(out.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile(), index);
        TokenizerAsset tok = ck.tokenizer().orElse(null);
        // a GGUF's tokenizer is metadata, not a file: the caller writes the file it describes (the loader cannot build it)
        if (tok != null && tok.kind() != TokenizerAsset.Kind.GGUF_METADATA) {
            Files.write(out.resolve(tok.kind() == TokenizerAsset.Kind.SENTENCEPIECE ? "tokenizer.model" : "tokenizer.json"),
                    tok.bytes());
            if (tok.config().isPresent()) Files.copy(tok.config().get(), out.resolve("tokenizer_config.json"));
        }
    }
}
