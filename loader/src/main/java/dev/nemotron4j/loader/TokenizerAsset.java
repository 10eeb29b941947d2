package dev.nemotron4j.loader;

import java.nio.file.Path;

/**
 * A tokenizer file that came with a checkpoint: a SentencePiece model or a Hugging Face
 * {@code tokenizer.json}, with the {@code tokenizer_config.json} beside it when there is one.
 */
public record TokenizerAsset(Kind kind, Path file, Path tokenizerConfig) {
    public enum Kind { SENTENCEPIECE, HF_TOKENIZER_JSON }
}
