package dev.nemotron4j.tokenizer;

import dev.nemotron4j.tokenizer.sentencepiece.SentencePieceTokenizer;

import java.nio.file.Path;

/** Opens a tokenizer file by its kind. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** A SentencePiece {@code .model} file. */
    public static Tokenizer sentencePiece(Path file) {
        return SentencePieceTokenizer.open(file);
    }

    /** A Hugging Face {@code tokenizer.json} (byte-level BPE, as Llama 3 ships). */
    public static Tokenizer huggingFaceJson(byte[] json, String origin) {
        return dev.nemotron4j.tokenizer.bpe.BpeTokenizer.fromJson(json, origin);
    }

    /** A SentencePiece model held in memory (e.g. read out of a {@code .nemo} archive). */
    public static Tokenizer sentencePiece(byte[] bytes, String origin) {
        return SentencePieceTokenizer.fromBytes(bytes, origin);
    }
}
