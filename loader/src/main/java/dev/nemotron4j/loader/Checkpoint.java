package dev.nemotron4j.loader;

import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.tensor.TensorSet;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An opened checkpoint: the model description, its tensors (mapped, not copied) under the canonical
 * Hugging Face names, and its tokenizer if one came with it. Closing it unmaps every file, after
 * which no tensor of it may be touched.
 */
public final class Checkpoint implements AutoCloseable {
    private final Path path;
    private final String layout;
    private final ModelConfig config;
    private final TensorSet tensors;
    private final TokenizerAsset tokenizer;
    private final Arena arena;
    private boolean closed;

    public Checkpoint(Path path, String layout, ModelConfig config, TensorSet tensors, TokenizerAsset tokenizer,
                      Arena arena) {
        this.path = path;
        this.layout = layout;
        this.config = config;
        this.tensors = tensors;
        this.tokenizer = tokenizer;
        this.arena = arena;
    }

    public Path path() {
        return path;
    }

    /** Which file layout the weights were found in, for {@code inspect}. */
    public String layout() {
        return layout;
    }

    public ModelConfig config() {
        return config;
    }

    public TensorSet tensors() {
        return tensors;
    }

    public Optional<TokenizerAsset> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** Unmaps the files; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }
}
