package dev.nemotron4j.loader.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.TokenizerAsset;
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
                entries.add(new SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(), SafetensorsWriter.copyOf(t)));
                map.put(t.name(), file);
            }
            SafetensorsWriter.write(out.resolve(file), entries, Map.of("format", "pt", "converted_from", ck.path().toString()));
            for (Tensor t : shards.get(s)) written += t.byteSize();
            if (progress != null) progress.accept(written);
        }
        if (shards.size() > 1) json.writeValue(out.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile(), index);
        TokenizerAsset tok = ck.tokenizer().orElse(null);
        if (tok != null) {
            Files.write(out.resolve(tok.kind() == TokenizerAsset.Kind.SENTENCEPIECE ? "tokenizer.model" : "tokenizer.json"),
                    tok.bytes());
            if (tok.config().isPresent()) Files.copy(tok.config().get(), out.resolve("tokenizer_config.json"));
        }
    }
}
