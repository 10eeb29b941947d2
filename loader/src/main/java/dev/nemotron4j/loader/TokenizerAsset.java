package dev.nemotron4j.loader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A tokenizer file that came with a checkpoint: a SentencePiece model or a Hugging Face {@code tokenizer.json},
 * as bytes (it may live inside a {@code .nemo} archive), with the {@code tokenizer_config.json} beside it when
 * there is one.
 */
public record TokenizerAsset(Kind kind, String name, MemorySegment data, Path tokenizerConfig) {
    public enum Kind { SENTENCEPIECE, HF_TOKENIZER_JSON }

    public byte[] bytes() {
        return data.toArray(ValueLayout.JAVA_BYTE);
    }

    public Optional<Path> config() {
        return Optional.ofNullable(tokenizerConfig);
    }
}
