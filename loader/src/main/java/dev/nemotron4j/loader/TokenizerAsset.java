package dev.nemotron4j.loader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A tokenizer that came with a checkpoint: a SentencePiece model or a Hugging Face {@code tokenizer.json} as bytes
 * (it may live inside a {@code .nemo} archive), with the {@code tokenizer_config.json} beside it when there is one;
 * or, for GGUF, the {@code tokenizer.ggml.*} metadata it is described by.
 */
public record TokenizerAsset(Kind kind, String name, MemorySegment data, Path tokenizerConfig, Map<String, Object> ggufMetadata) {
    public enum Kind { SENTENCEPIECE, HF_TOKENIZER_JSON, GGUF_METADATA }

    public TokenizerAsset(Kind kind, String name, MemorySegment data, Path tokenizerConfig) {
        this(kind, name, data, tokenizerConfig, Map.of());
    }

    public byte[] bytes() {
        return data.toArray(ValueLayout.JAVA_BYTE);
    }

    public Optional<Path> config() {
        return Optional.ofNullable(tokenizerConfig);
    }
}
