package dev.nemotron4j.loader;

import dev.nemotron4j.loader.config.HfConfigReader;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.gguf.GgufCheckpoint;
import dev.nemotron4j.loader.nemo.NemoCheckpointLoader;
import dev.nemotron4j.loader.io.MappedFiles;
import dev.nemotron4j.loader.safetensors.SafetensorsCheckpoint;
import dev.nemotron4j.loader.tensor.TensorSet;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens whatever a user points {@code --model} at, detecting the format. */
public final class CheckpointLoader {
    private CheckpointLoader() {
    }

    public static Checkpoint open(Path path) {
        try {
            return openChecked(path);
        } catch (ArithmeticException | IndexOutOfBoundsException | NegativeArraySizeException | NumberFormatException e) {
            // a field no reader checks yet (a size that overflows, an index past a table): still the file's fault
            throw new CheckpointException(path + ": corrupt or unsupported file (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        } catch (StackOverflowError e) {
            throw new CheckpointException(path + ": corrupt or hostile file (its structures nest or refer to each other "
                    + "without end)");
        }
    }

    private static Checkpoint openChecked(Path path) {
        if (!Files.exists(path)) {
            throw new CheckpointException(path + ": no such file or directory");
        }
        if (Files.isDirectory(path) && Files.isRegularFile(path.resolve("config.json"))) {
            return openHuggingFace(path);
        }
        if (Files.isRegularFile(path) && GgufCheckpoint.looksLikeGguf(path)) {
            return GgufCheckpoint.open(path);
        }
        if (NemoCheckpointLoader.looksLikeNemo(path)) {
            return NemoCheckpointLoader.open(path);
        }
        Path folder = path.toAbsolutePath().getParent();
        if (Files.isRegularFile(path) && folder != null && Files.isRegularFile(folder.resolve("config.json"))) {
            throw new CheckpointException(path + ": a file inside a Hugging Face folder; pass the folder itself (" + folder + ")");
        }
        throw new CheckpointException(path + ": not a model this engine can read (expected a Hugging Face folder "
                + "with config.json and *.safetensors, a .gguf file, a .nemo file, or an extracted .nemo directory with model_config.yaml)");
    }

    private static Checkpoint openHuggingFace(Path dir) {
        ModelConfig config = HfConfigReader.read(dir.resolve("config.json"));
        if (!SafetensorsCheckpoint.isPresent(dir)) {
            throw new CheckpointException(dir + ": config.json found but no *.safetensors weights "
                    + "(PyTorch .bin checkpoints are not read: convert them to safetensors)");
        }
        Arena arena = Arena.ofShared();
        try {
            TensorSet tensors = SafetensorsCheckpoint.open(dir, arena);
            String layout = Files.isRegularFile(dir.resolve(SafetensorsCheckpoint.INDEX_FILE))
                    ? "Hugging Face safetensors (sharded, " + SafetensorsCheckpoint.INDEX_FILE + ")"
                    : "Hugging Face safetensors";
            return new Checkpoint(dir, layout, config, tensors, findTokenizer(dir, arena), arena);
        } catch (RuntimeException | Error e) {   // a stack overflow in a reader too: the mapping goes
            arena.close();
            throw e;
        }
    }

    static TokenizerAsset findTokenizer(Path dir, Arena arena) {
        Path cfg = dir.resolve("tokenizer_config.json");
        Path tokCfg = Files.isRegularFile(cfg) ? cfg : null;
        for (var kind : new Object[][]{{"tokenizer.model", TokenizerAsset.Kind.SENTENCEPIECE},
                {"tokenizer.json", TokenizerAsset.Kind.HF_TOKENIZER_JSON}}) {
            Path f = dir.resolve((String) kind[0]);
            if (Files.isRegularFile(f)) {
                return new TokenizerAsset((TokenizerAsset.Kind) kind[1], f.toString(), MappedFiles.map(f, arena), tokCfg);
            }
        }
        return null;
    }
}
