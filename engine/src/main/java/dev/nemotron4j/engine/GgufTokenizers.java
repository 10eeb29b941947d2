package dev.nemotron4j.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerException;
import dev.nemotron4j.tokenizer.bpe.BpeTokenizer;
import dev.nemotron4j.tokenizer.sentencepiece.ModelProtoWriter;
import dev.nemotron4j.tokenizer.sentencepiece.SentencePieceModel;
import dev.nemotron4j.tokenizer.sentencepiece.SentencePieceTokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Tokenizers to and from GGUF's {@code tokenizer.ggml.*} metadata. "llama" vocabularies (SentencePiece pieces with
 * scores and types) become a SentencePiece model run by the SentencePiece library (BPE by score, as llama.cpp reads
 * them); "gpt2" vocabularies (tokens and merges) become the byte-level BPE.
 */
public final class GgufTokenizers {
    /** GGUF token types, SentencePiece's numbering. */
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    private GgufTokenizers() {
    }

    public static Tokenizer fromMetadata(Map<String, Object> m, String origin) {
        TokenizerFile file = toFile(m, origin);
        if (file.name().equals(TokenizerFile.SENTENCEPIECE)) return SentencePieceTokenizer.fromBytes(file.bytes(), origin);
        return BpeTokenizer.fromJson(file.bytes(), origin, optionalId(m, "tokenizer.ggml.bos_token_id"),
                optionalId(m, "tokenizer.ggml.eos_token_id"));
    }

    /**
     * The file a Hugging Face folder holds for the tokenizer these {@code tokenizer.ggml.*} metadata describe: a
     * SentencePiece {@code tokenizer.model} ("llama" vocabularies) or a {@code tokenizer.json} ("gpt2" ones); what
     * {@link #fromMetadata} reads, and what {@code convert} writes for a GGUF source.
     */
    public record TokenizerFile(String name, byte[] bytes) {
        public static final String SENTENCEPIECE = "tokenizer.model", HF_JSON = "tokenizer.json";
    }

    public static TokenizerFile toFile(Map<String, Object> m, String origin) {
        Object model = m.get("tokenizer.ggml.model");
        List<String> tokens = strings(m.get("tokenizer.ggml.tokens"), origin, "tokenizer.ggml.tokens");
        int[] types = m.get("tokenizer.ggml.token_type") instanceof int[] t ? t : null;
        if ("llama".equals(model)) {
            float[] scores = m.get("tokenizer.ggml.scores") instanceof float[] s ? s : new float[tokens.size()];
            if (scores.length != tokens.size() || (types != null && types.length != tokens.size())) {
                throw new TokenizerException(origin + ": tokenizer.ggml.scores/token_type do not match the " + tokens.size() + " tokens");
            }
            List<SentencePieceModel.Piece> pieces = new ArrayList<>();
            boolean bytes = false;
            for (int i = 0; i < tokens.size(); i++) {
                int t = types == null ? NORMAL : types[i];
                SentencePieceModel.Type type = t >= 0 && t < SentencePieceModel.Type.values().length
                        ? SentencePieceModel.Type.values()[t] : SentencePieceModel.Type.NORMAL;
                bytes |= type == SentencePieceModel.Type.BYTE;
                pieces.add(new SentencePieceModel.Piece(tokens.get(i), scores[i], type));
            }
            SentencePieceModel spm = new SentencePieceModel(pieces, id(m, "tokenizer.ggml.unknown_token_id", 0),
                    id(m, "tokenizer.ggml.bos_token_id", 1), id(m, "tokenizer.ggml.eos_token_id", 2),
                    id(m, "tokenizer.ggml.padding_token_id", -1),
                    !(m.get("tokenizer.ggml.add_space_prefix") instanceof Boolean b) || b);
            return new TokenizerFile(TokenizerFile.SENTENCEPIECE, ModelProtoWriter.write(spm, ModelProtoWriter.BPE, bytes));
        }
        if ("gpt2".equals(model)) {
            List<String> merges = strings(m.getOrDefault("tokenizer.ggml.merges", List.of()), origin, "tokenizer.ggml.merges");
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = json.createObjectNode();
            ObjectNode bpe = root.putObject("model");
            bpe.put("type", "BPE");
            bpe.put("ignore_merges", "llama-bpe".equals(m.get("tokenizer.ggml.pre")));
            ObjectNode vocab = bpe.putObject("vocab");
            ArrayNode added = root.putArray("added_tokens");
            for (int i = 0; i < tokens.size(); i++) {
                int t = types == null ? NORMAL : types[i];
                if (t == CONTROL || t == USER_DEFINED) {
                    added.addObject().put("id", i).put("content", tokens.get(i)).put("special", t == CONTROL);
                } else {
                    vocab.put(tokens.get(i), i);
                }
            }
            merges.forEach(bpe.putArray("merges")::add);
            ObjectNode pre = root.putObject("pre_tokenizer");
            pre.put("type", "Split").put("behavior", "Isolated");
            pre.putObject("pattern").put("Regex", "llama-bpe".equals(m.get("tokenizer.ggml.pre"))
                    ? BpeTokenizer.LLAMA3_PATTERN : BpeTokenizer.GPT2_PATTERN);
            try {
                return new TokenizerFile(TokenizerFile.HF_JSON, json.writeValueAsBytes(root));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new TokenizerException(origin + ": " + e.getMessage(), e);
            }
        }
        throw new TokenizerException(origin + ": GGUF tokenizer model '" + model + "' is not supported (llama, gpt2)");
    }

    /** The {@code tokenizer.ggml.*} metadata describing {@code tok} (SentencePiece or byte-level BPE). */
    public static Map<String, Object> toMetadata(Tokenizer tok) {
        return toMetadata(tok, tok.vocabSize());
    }

    /**
     * As {@link #toMetadata(Tokenizer)} for a model of {@code vocab} token rows: llama.cpp requires one token per row
     * (it refuses a file whose token list is shorter than {@code token_embd}), so rows past the tokenizer's last id
     * get placeholder tokens {@code [PADi]} of type unused, as llama.cpp's own converter writes them. A tokenizer
     * with more tokens than the model has rows has no GGUF form.
     */
    public static Map<String, Object> toMetadata(Tokenizer tok, int vocab) {
        if (tok.vocabSize() > vocab) {
            throw new IllegalArgumentException("the tokenizer has " + tok.vocabSize() + " tokens and the model " + vocab
                    + " token rows; a GGUF file needs one token per row");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        int n = vocab, own = tok.vocabSize();
        List<String> tokens = new ArrayList<>(n);
        int[] types = new int[n];
        if (tok instanceof SentencePieceTokenizer sp) {
            SentencePieceModel model = sp.model();
            float[] scores = new float[n];
            for (int i = 0; i < n; i++) {
                if (i >= own) {
                    tokens.add("[PAD" + i + "]");
                    types[i] = UNUSED;
                    continue;
                }
                SentencePieceModel.Piece p = model.pieces().get(i);
                tokens.add(p.text());
                scores[i] = p.score();
                types[i] = p.type() == SentencePieceModel.Type.UNDEFINED ? NORMAL : p.type().ordinal();
            }
            m.put("tokenizer.ggml.model", "llama");
            m.put("tokenizer.ggml.pre", "default");
            m.put("tokenizer.ggml.tokens", tokens);
            m.put("tokenizer.ggml.scores", scores);
            m.put("tokenizer.ggml.token_type", types);
            m.put("tokenizer.ggml.add_space_prefix", model.addDummyPrefix());
            if (model.unkId() >= 0) m.put("tokenizer.ggml.unknown_token_id", model.unkId());
            if (model.padId() >= 0) m.put("tokenizer.ggml.padding_token_id", model.padId());
        } else if (tok instanceof BpeTokenizer bpe) {
            for (int i = 0; i < n; i++) {   // hasId is false past the tokenizer's last id, as for gaps inside
                tokens.add(bpe.hasId(i) ? bpe.piece(i) : "[PAD" + i + "]");
                types[i] = !bpe.hasId(i) ? UNUSED : bpe.isSpecial(i) ? CONTROL : NORMAL;
            }
            m.put("tokenizer.ggml.model", "gpt2");
            m.put("tokenizer.ggml.pre", "llama-bpe");
            m.put("tokenizer.ggml.tokens", tokens);
            m.put("tokenizer.ggml.token_type", types);
            m.put("tokenizer.ggml.merges", bpe.merges());
        } else {
            throw new IllegalArgumentException("no GGUF form for " + tok.getClass().getSimpleName());
        }
        tok.bosId().ifPresent(id -> m.put("tokenizer.ggml.bos_token_id", id));
        tok.eosId().ifPresent(id -> m.put("tokenizer.ggml.eos_token_id", id));
        return m;
    }

    /** An id from the metadata: a Long as read from a file, an Integer as {@link #toMetadata} puts it. */
    private static int id(Map<String, Object> m, String key, int dflt) {
        return optionalId(m, key).orElse(dflt);
    }

    private static OptionalInt optionalId(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n && n.longValue() >= 0 && n.longValue() <= Integer.MAX_VALUE
                ? OptionalInt.of(n.intValue()) : OptionalInt.empty();
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object o, String origin, String key) {
        if (o instanceof List<?> l && l.stream().allMatch(x -> x instanceof String)) return (List<String>) l;
        throw new TokenizerException(origin + ": GGUF metadata '" + key + "' is missing or not a string array");
    }
}
