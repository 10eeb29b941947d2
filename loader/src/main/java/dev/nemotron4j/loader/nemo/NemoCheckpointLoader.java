package dev.nemotron4j.loader.nemo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.TokenizerAsset;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorSet;
import dev.nemotron4j.loader.torch.TorchCheckpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens a NeMo checkpoint ({@code .nemo} tar, gzip tar, or extracted directory). Weights are auto-detected in
 * NeMo's own order: a distributed checkpoint in {@code model_weights/} (zarr, then torch_dist), a single
 * {@code model_weights.ckpt}, tensor-parallel {@code mp_rank_XX/} shards, then {@code tp_rank_XX_pp_rank_YYY/}.
 */
public final class NemoCheckpointLoader {
    private static final Pattern MP_RANK = Pattern.compile("^mp_rank_(\\d+)/model_weights\\.ckpt$");
    private static final Pattern TP_PP_RANK = Pattern.compile("^tp_rank_(\\d+)_pp_rank_(\\d+)/model_weights\\.ckpt$");

    private NemoCheckpointLoader() {
    }

    public static boolean looksLikeNemo(Path path) {
        if (Files.isDirectory(path)) return Files.isRegularFile(path.resolve("model_config.yaml"));
        String n = path.getFileName().toString();
        return Files.isRegularFile(path) && (n.endsWith(".nemo") || n.endsWith(".tar") || n.endsWith(".tar.gz"));
    }

    public static Checkpoint open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            return open(path, arena);
        } catch (RuntimeException | Error e) {   // a stack overflow in a reader too: the mapping goes
            arena.close();
            throw e;
        }
    }

    private static Checkpoint open(Path path, Arena arena) {
        NemoContainer c = NemoContainer.open(path, arena);
        String origin = c.origin();
        MemorySegment yaml = c.file("model_config.yaml").orElseThrow(() ->
                new CheckpointException(origin + ": no model_config.yaml (not a NeMo checkpoint?)"));
        Map<String, Object> cfg = NemoConfigReader.parseYaml(yaml.toArray(ValueLayout.JAVA_BYTE), origin);

        String library = NemoConfigReader.tokenizerLibrary(cfg);
        if (!library.equals("sentencepiece")) {
            throw new CheckpointException(origin + ": tokenizer library '" + library + "' is not supported for .nemo (sentencepiece)");
        }
        String artifact = NemoConfigReader.tokenizerArtifact(cfg).orElseThrow(() -> new CheckpointException(origin
                + ": model_config.yaml names no tokenizer model (tokenizer.model or tokenizer.tokenizer_model)"));
        MemorySegment spModel = c.file(artifact).orElseThrow(() -> new CheckpointException(origin
                + ": the tokenizer artifact '" + artifact + "' named in model_config.yaml is not in the archive"));
        SentencePieceHeader sp = SentencePieceHeader.read(spModel, origin + "/" + artifact);
        ModelConfig config = NemoConfigReader.toModelConfig(cfg, sp.vocabSize(), sp.bosId(), sp.eosId(), origin);

        Weights w = readWeights(c, config, origin);
        Map<String, Tensor> hf = MegatronNames.toHuggingFace(w.mcore, config, origin);
        TokenizerAsset tok = new TokenizerAsset(TokenizerAsset.Kind.SENTENCEPIECE, origin + "/" + artifact, spModel, null);
        return new Checkpoint(path, c.kind() + ", " + w.layout, config, new TensorSet(hf, origin), tok, arena);
    }

    private record Weights(Map<String, Tensor> mcore, String layout) {
    }

    private static Weights readWeights(NemoContainer c, ModelConfig config, String origin) {
        List<String> dist = c.list("model_weights");
        if (!dist.isEmpty()) {
            String backend = distBackend(c, dist, origin);
            Map<String, Tensor> raw = switch (backend) {
                case "zarr" -> ZarrCheckpoint.read(c, "model_weights");
                case "torch_dist" -> TorchDistCheckpoint.read(c, "model_weights");
                default -> throw new CheckpointException(origin + ": model_weights/ uses sharded backend '" + backend
                        + "', which is not supported (zarr, torch_dist)");
            };
            Map<String, Tensor> m = MegatronNames.unstackLayers(MegatronNames.normalise(raw), config.numLayers());
            return new Weights(m, backend + " distributed checkpoint (model_weights/)");
        }
        if (c.file("model_weights.ckpt").isPresent()) {
            return new Weights(MegatronNames.normalise(torch(c, "model_weights.ckpt")), "torch checkpoint (model_weights.ckpt)");
        }
        TreeMap<Integer, String> mp = new TreeMap<>();
        TreeMap<Integer, TreeMap<Integer, String>> tpPp = new TreeMap<>();
        for (String f : c.list("")) {
            Matcher m = MP_RANK.matcher(f);
            if (m.matches()) mp.put(Integer.parseInt(m.group(1)), f);
            Matcher t = TP_PP_RANK.matcher(f);
            if (t.matches()) tpPp.computeIfAbsent(Integer.parseInt(t.group(2)), k -> new TreeMap<>()).put(Integer.parseInt(t.group(1)), f);
        }
        boolean gated = config.activation().gated();
        if (!mp.isEmpty()) {
            checkContiguous(mp.keySet(), "mp_rank", origin);
            List<Map<String, Tensor>> ranks = new ArrayList<>();
            for (String f : mp.values()) ranks.add(MegatronNames.normalise(torch(c, f)));
            return new Weights(MegatronNames.mergeTensorParallel(ranks, gated),
                    "tensor-parallel shards (" + mp.size() + " × mp_rank_XX/model_weights.ckpt)");
        }
        if (!tpPp.isEmpty()) {
            checkContiguous(tpPp.keySet(), "pp_rank", origin);
            List<Map<String, Tensor>> stages = new ArrayList<>();
            for (TreeMap<Integer, String> stage : tpPp.values()) {
                checkContiguous(stage.keySet(), "tp_rank", origin);
                List<Map<String, Tensor>> ranks = new ArrayList<>();
                for (String f : stage.values()) ranks.add(MegatronNames.normalise(torch(c, f)));
                stages.add(MegatronNames.mergeTensorParallel(ranks, gated));
            }
            return new Weights(MegatronNames.mergePipeline(stages), "tensor × pipeline shards (tp_rank_XX_pp_rank_YYY/)");
        }
        throw new CheckpointException(origin + ": no weights found (looked for model_weights/, model_weights.ckpt, "
                + "mp_rank_XX/model_weights.ckpt and tp_rank_XX_pp_rank_YYY/model_weights.ckpt)");
    }

    private static void checkContiguous(java.util.Set<Integer> ranks, String what, String origin) {
        int expect = 0;
        for (int r : ranks) {
            if (r != expect) throw new CheckpointException(origin + ": " + what + "_" + String.format("%02d", expect) + " is missing");
            expect++;
        }
    }

    private static Map<String, Tensor> torch(NemoContainer c, String name) {
        return TorchCheckpoint.read(c.file(name).orElseThrow(), c.origin() + "/" + name);
    }

    /** metadata.json's sharded_backend, else sniffed: .zarray ⇒ zarr, .metadata ⇒ torch_dist. */
    private static String distBackend(NemoContainer c, List<String> files, String origin) {
        var meta = c.file("model_weights/metadata.json");
        if (meta.isPresent()) {
            try {
                JsonNode j = new ObjectMapper().readTree(meta.get().toArray(ValueLayout.JAVA_BYTE));
                if (j.hasNonNull("sharded_backend")) return j.get("sharded_backend").asText();
            } catch (IOException e) {
                throw new CheckpointException(origin + ": model_weights/metadata.json is not valid JSON: " + e.getMessage(), e);
            }
        }
        if (files.stream().anyMatch(f -> f.endsWith("/.zarray"))) return "zarr";
        if (files.contains("model_weights/.metadata")) return "torch_dist";
        throw new CheckpointException(origin + ": model_weights/ is neither a zarr nor a torch_dist checkpoint");
    }
}
