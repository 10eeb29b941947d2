package dev.nemotron4j.engine;

import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.TokenizerAsset;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerException;
import dev.nemotron4j.tokenizer.chat.ChatFormat;
import dev.nemotron4j.tokenizer.chat.ChatFormats;
import dev.nemotron4j.tokenizer.Tokenizers;

import java.util.Optional;

/** Connects a checkpoint's tokenizer file to a {@link Tokenizer}. */
public final class ModelTokenizers {
    private ModelTokenizers() {
    }

    /** The checkpoint's tokenizer, or empty when it came without one (ids still work). */
    public static Optional<Tokenizer> open(Checkpoint checkpoint) {
        Optional<TokenizerAsset> asset = checkpoint.tokenizer();
        if (asset.isEmpty()) return Optional.empty();
        TokenizerAsset a = asset.get();
        Tokenizer tok = switch (a.kind()) {
            case SENTENCEPIECE -> Tokenizers.sentencePiece(a.bytes(), a.name());
            case HF_TOKENIZER_JSON -> Tokenizers.huggingFaceJson(a.bytes(), a.name());
            case GGUF_METADATA -> GgufTokenizers.fromMetadata(a.ggufMetadata(), a.name());
        };
        String problem = mismatch(tok, checkpoint.config().vocabSize());
        if (problem != null) {
            tok.close();
            throw new TokenizerException(a.name() + ": " + problem + " (" + checkpoint.path() + "); the tokenizer and the "
                    + "weights do not belong together");
        }
        return Optional.of(tok);
    }

    /**
     * Why {@code tok} cannot go with a model of {@code vocab} token rows, or null: a SentencePiece model with more pieces
     * than the model has rows (a model may have more: padding), or a BOS or EOS outside them.
     */
    static String mismatch(Tokenizer tok, int vocab) {
        // a byte-level BPE's size is its highest id + 1, and an unused added token past the model's rows (a <pad> that
        // fine-tuning tools add) is harmless until used, when generation names it: only a SentencePiece model's pieces count
        if (tok instanceof dev.nemotron4j.tokenizer.sentencepiece.SentencePieceTokenizer && tok.vocabSize() > vocab) {
            return "the tokenizer has " + tok.vocabSize() + " tokens, the model's vocabulary " + vocab;
        }
        if (tok.bosId().isPresent() && tok.bosId().getAsInt() >= vocab) {
            return "BOS id " + tok.bosId().getAsInt() + " lies outside the model's vocabulary of " + vocab;
        }
        if (tok.eosId().isPresent() && tok.eosId().getAsInt() >= vocab) {
            return "EOS id " + tok.eosId().getAsInt() + " lies outside the model's vocabulary of " + vocab;
        }
        return null;
    }

    /**
     * The chat format for this model: {@code requested} ("auto" or a built-in name); "auto" uses the model's own
     * {@code chat_template} when its folder has a tokenizer_config.json with one, else its family's format.
     */
    public static ChatFormat chatFormat(Checkpoint checkpoint, Tokenizer tokenizer, String requested) {
        return ChatFormats.select(requested, checkpoint.config().architecture().modelType(),
                checkpoint.tokenizer().flatMap(TokenizerAsset::config), tokenizer);
    }

    /** The tokenizer, or an error telling the user to pass ids. */
    public static Tokenizer require(Checkpoint checkpoint) {
        return open(checkpoint).orElseThrow(() -> new TokenizerException(checkpoint.path()
                + ": has no tokenizer (tokenizer.model or tokenizer.json); pass token ids with --ids instead"));
    }
}
