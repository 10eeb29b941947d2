package dev.nemotron4j.tokenizer.sentencepiece;

import ai.djl.sentencepiece.SpProcessor;
import ai.djl.sentencepiece.SpTokenizer;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * SentencePiece (Nemotron's 256k BPE model) through DJL's JNI binding. Encoding and decoding run in the
 * reference C++ library; piece types and special ids are read from the model file itself.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    private final SpTokenizer native_;
    private final SpProcessor processor;
    private final SentencePieceModel model;
    private final Map<String, Integer> ids = new HashMap<>();
    private final PieceDecoder decoder;

    private SentencePieceTokenizer(byte[] bytes, String origin) {
        this.model = SentencePieceModel.parse(bytes, origin);
        try {
            this.native_ = new SpTokenizer(bytes);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new TokenizerException(origin + ": SentencePiece could not load it: " + e.getMessage(), e);
        }
        this.processor = native_.getProcessor();
        this.decoder = new PieceDecoder(model);
        for (int i = 0; i < model.pieces().size(); i++) ids.putIfAbsent(model.pieces().get(i).text(), i);
    }

    public static SentencePieceTokenizer open(Path file) {
        try {
            return fromBytes(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static SentencePieceTokenizer fromBytes(byte[] bytes, String origin) {
        return new SentencePieceTokenizer(bytes, origin);
    }

    public SentencePieceModel model() {
        return model;
    }

    @Override
    public int[] encode(String text) {
        return text.isEmpty() ? new int[0] : processor.encode(text);
    }

    @Override
    public int[] encodeContinuation(String text) {
        int[] ids = encode(text);
        if (!model.addDummyPrefix() || ids.length == 0 || text.startsWith(" ")) return ids;
        String first = model.pieces().get(ids[0]).text();
        if (first.equals("\u2581")) return java.util.Arrays.copyOfRange(ids, 1, ids.length);
        if (first.startsWith("\u2581")) { // the dummy space merged into the first word: use the word without it
            Integer bare = this.ids.get(first.substring(1));
            if (bare != null) ids[0] = bare;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        for (int id : ids) checkId(id);
        // invalid UTF-8 (a split multi-byte character) becomes U+FFFD, as in SentencePiece
        return new String(decoder.decode(ids, true), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public dev.nemotron4j.tokenizer.StreamingDecoder streamingDecoder(boolean atStart) {
        // ids beyond the tokenizer (a model vocabulary padded past it) have no text: they stream as nothing
        return new dev.nemotron4j.tokenizer.StreamingDecoder((id, first) -> id < 0 || id >= model.pieces().size()
                ? new byte[0] : decoder.decode(new int[]{id}, first), atStart);
    }

    @Override
    public boolean isSpecial(int id) {
        SentencePieceModel.Type t = model.pieces().get(id).type();
        return t == SentencePieceModel.Type.CONTROL || t == SentencePieceModel.Type.USER_DEFINED;
    }

    @Override
    public String piece(int id) {
        checkId(id);
        return model.pieces().get(id).text();
    }

    @Override
    public OptionalInt id(String piece) {
        Integer i = ids.get(piece);
        return i == null ? OptionalInt.empty() : OptionalInt.of(i);
    }

    @Override
    public int vocabSize() {
        return model.pieces().size();
    }

    @Override
    public OptionalInt bosId() {
        return model.bosId() >= 0 ? OptionalInt.of(model.bosId()) : OptionalInt.empty();
    }

    @Override
    public OptionalInt eosId() {
        return model.eosId() >= 0 ? OptionalInt.of(model.eosId()) : OptionalInt.empty();
    }

    private void checkId(int id) {
        if (id < 0 || id >= model.pieces().size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the tokenizer's vocabulary [0, "
                    + model.pieces().size() + ")");
        }
    }

    @Override
    public void close() {
        native_.close();
    }
}
