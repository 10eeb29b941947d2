package dev.nemotron4j.loader.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorSet;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The safetensors weights of a Hugging Face model folder: {@code model.safetensors.index.json} with its
 * shards when present, otherwise every {@code *.safetensors} file in the folder.
 */
public final class SafetensorsCheckpoint {
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private SafetensorsCheckpoint() {
    }

    /** True if the folder holds safetensors weights. */
    public static boolean isPresent(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX_FILE)) || !listSafetensors(dir).isEmpty();
    }

    public static TensorSet open(Path dir, Arena arena) {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openIndexed(dir, index, arena);
        }
        List<Path> files = listSafetensors(dir);
        if (files.isEmpty()) {
            throw new CheckpointException(dir + ": no *.safetensors file and no " + INDEX_FILE);
        }
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (Path f : files) {
            for (Tensor t : SafetensorsFile.open(f, arena).tensors().values()) {
                Tensor prev = all.putIfAbsent(t.name(), t);
                if (prev != null) {
                    throw new CheckpointException(f + ": tensor '" + t.name() + "' is also in " + prev.origin());
                }
            }
        }
        return new TensorSet(all, dir.toString());
    }

    private static TensorSet openIndexed(Path dir, Path index, Arena arena) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(index + ": has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new TreeMap<>();
        map.fields().forEachRemaining(e -> weightMap.put(e.getKey(), e.getValue().asText()));
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (String shard : new java.util.TreeSet<>(weightMap.values())) {
            Path p = dir.resolve(shard).normalize();
            if (!p.startsWith(dir.normalize()) || shard.contains("/") || shard.contains("\\")) {
                throw new CheckpointException(index + ": shard name '" + shard + "' points outside the model folder");
            }
            if (!Files.isRegularFile(p)) {
                throw new CheckpointException(index + ": shard '" + shard + "' is missing from " + dir);
            }
            shards.put(shard, SafetensorsFile.open(p, arena));
        }
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            SafetensorsFile f = shards.get(e.getValue());
            Tensor t = f.tensors().get(e.getKey());
            if (t == null) {
                throw new CheckpointException(f.path() + ": missing tensor '" + e.getKey() + "' (listed in " + INDEX_FILE + ")");
            }
            all.put(e.getKey(), t);
        }
        return new TensorSet(all, dir.toString());
    }

    private static List<Path> listSafetensors(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(SafetensorsFile::isSafetensors).sorted().toList());
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }
}
