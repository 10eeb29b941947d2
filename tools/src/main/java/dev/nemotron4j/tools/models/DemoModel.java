package dev.nemotron4j.tools.models;

import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.tensor.DType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The built-in demo model: a small Nemotron-4 (GQA, LayerNorm1p, squared ReLU, partial RoPE) with random weights,
 * made deterministically on first use in the user's cache folder, with a real SentencePiece tokenizer
 * (1024 pieces, Nemotron-4's settings). Its words are meaningless; it exists to show the engine working.
 */
public final class DemoModel {
    /** The cache folder's name: a new one whenever the weights made for it change (v2: a generator per row, session 32). */
    static final String VERSION = "demo-v2";
    static final ModelConfig CONFIG = new ModelConfig(Architecture.NEMOTRON, 1024, 256, 1024, 4, 8, 4, 32, 4096, 1e-5,
            NormKind.LAYERNORM_1P, Activation.RELU2, 10000, 16, null, false, 2, List.of(3));

    private DemoModel() {
    }

    /** The demo model's folder, created if it is missing. */
    public static Path ensure() throws IOException {
        Path dir = cacheRoot().resolve(VERSION);
        if (Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("tokenizer.model"))) {
            return dir;
        }
        Files.createDirectories(dir.getParent());
        Path tmp = Files.createTempDirectory(dir.getParent(), VERSION + ".partial-");
        RandomModel.write(tmp, CONFIG, DType.BF16, 0.08, 20240614);
        try (InputStream in = DemoModel.class.getResourceAsStream("/demo/tokenizer.model")) {
            if (in == null) throw new IOException("the demo tokenizer is missing from the nemotron4j jar");
            Files.copy(in, tmp.resolve("tokenizer.model"));
        }
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException raced) { // another process made it first
            if (!Files.isRegularFile(dir.resolve("model.safetensors"))) throw raced;
        }
        return dir;
    }

    static Path cacheRoot() {
        String override = System.getenv("NEMOTRON4J_CACHE");
        if (override != null && !override.isBlank()) return Path.of(override);
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("nemotron4j");
    }
}
