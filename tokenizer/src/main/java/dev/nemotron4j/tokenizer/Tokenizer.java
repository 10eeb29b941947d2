package dev.nemotron4j.tokenizer;

import java.util.List;
import java.util.OptionalInt;

/** Text ⇄ token ids for one model. Implementations are thread-safe for encode/decode. */
public interface Tokenizer extends AutoCloseable {
    /** The ids of {@code text}, with no BOS or other special token added. */
    int[] encode(String text);

    /**
     * The ids of {@code text} as it continues text already tokenized: like {@link #encode} but without a
     * start-of-text artefact (SentencePiece's dummy-prefix space).
     */
    default int[] encodeContinuation(String text) {
        return encode(text);
    }

    /** The text of {@code ids}; control tokens such as {@code <s>} render as nothing. */
    String decode(int[] ids);

    /** The vocabulary entry of {@code id} as the model file spells it (e.g. "▁Hello"). */
    String piece(int id);

    /** The id of a vocabulary entry, if it is one. */
    OptionalInt id(String piece);

    int vocabSize();

    OptionalInt bosId();

    OptionalInt eosId();

    /**
     * A decoder for ids arriving one by one, emitting only whole UTF-8 characters. {@code atStart}: the ids begin
     * a text (SentencePiece then drops its dummy-prefix space); false when they continue a prompt, as generated
     * tokens do.
     */
    StreamingDecoder streamingDecoder(boolean atStart);

    /** Control/special tokens (BOS, EOS, chat markers) that are not ordinary text. */
    boolean isSpecial(int id);

    default List<String> pieces(int[] ids) {
        String[] out = new String[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = piece(ids[i]);
        return List.of(out);
    }

    @Override
    void close();
}
