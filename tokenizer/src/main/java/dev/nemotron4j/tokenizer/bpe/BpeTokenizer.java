package dev.nemotron4j.tokenizer.bpe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.tokenizer.StreamingDecoder;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE from a Hugging Face {@code tokenizer.json} (Llama 3 / 3.1): special tokens matched literally
 * first, then the pre-tokenizer's split regex, GPT-2 byte-to-char mapping, and merges applied lowest rank first
 * ({@code ignore_merges}: a pre-token that is itself in the vocabulary is one token). No BOS is added.
 */
public final class BpeTokenizer implements Tokenizer {
    /** GPT-2's pre-tokenizer pattern (a ByteLevel pre-tokenizer with use_regex). */
    public static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** Llama 3's pre-tokenizer pattern (GGUF calls it "llama-bpe"). */
    public static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final String origin;
    private final Map<String, Integer> vocab;
    private final String[] byId;
    private final boolean[] special;
    private final Map<String, Integer> merges; // "a b" → rank
    private final List<String> mergeList;
    private final boolean ignoreMerges;
    private final Pattern split;
    private final Pattern specials;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private final OptionalInt bos;
    private final OptionalInt eos;

    private BpeTokenizer(String origin, JsonNode root, OptionalInt bosId, OptionalInt eosId) {
        this.origin = origin;
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new TokenizerException(origin + ": tokenizer model type '" + model.path("type").asText()
                    + "' is not supported (byte-level BPE only)");
        }
        vocab = new HashMap<>();
        int max = -1;
        for (var it = model.path("vocab").fields(); it.hasNext(); ) {
            var e = it.next();
            int id = tokenId(e.getValue(), origin, "vocab entry '" + e.getKey() + "'");
            vocab.put(e.getKey(), id);
            max = Math.max(max, id);
        }
        List<JsonNode> added = new ArrayList<>();
        root.path("added_tokens").forEach(added::add);
        for (JsonNode a : added) max = Math.max(max, tokenId(a.path("id"), origin, "added token '" + a.path("content").asText() + "'"));
        byId = new String[max + 1];
        special = new boolean[max + 1];
        vocab.forEach((t, id) -> byId[id] = t);
        List<String> specialTexts = new ArrayList<>();
        for (JsonNode a : added) {
            int id = a.path("id").asInt();
            String content = a.path("content").asText();
            byId[id] = content;
            special[id] = a.path("special").asBoolean(true);
            vocab.put(content, id);
            specialTexts.add(content);
        }
        merges = new HashMap<>();
        mergeList = new ArrayList<>();
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            if (m.isArray() ? m.size() != 2 || !m.get(0).isTextual() || !m.get(1).isTextual() : !m.isTextual()) {
                throw new TokenizerException(origin + ": merge " + m + " is not a pair of tokens (\"a b\" or [\"a\", \"b\"])");
            }
            String pair = m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText();
            mergeList.add(pair);
            merges.putIfAbsent(pair, rank++);
        }
        ignoreMerges = model.path("ignore_merges").asBoolean(false);
        try {
            split = Pattern.compile(splitRegex(root.path("pre_tokenizer")), Pattern.UNICODE_CHARACTER_CLASS);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new TokenizerException(origin + ": the pre-tokenizer's Split pattern is not a valid regular expression: "
                    + e.getDescription() + " near index " + e.getIndex());
        }
        specialTexts.sort(Comparator.comparingInt(String::length).reversed()); // longest first
        specials = specialTexts.isEmpty() ? null
                : Pattern.compile(String.join("|", specialTexts.stream().map(Pattern::quote).toList()));
        bos = known(bosId).isPresent() ? bosId : idOf(specialTexts, "<|begin_of_text|>", "<s>");
        eos = known(eosId).isPresent() ? eosId : idOf(specialTexts, "<|end_of_text|>", "</s>");
    }

    /** Ids above this are not a vocabulary but a corrupt file (the largest real ones are about 260 000). */
    private static final int MAX_ID = 1 << 24;

    private static int tokenId(JsonNode n, String origin, String what) {
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0 || n.asInt() >= MAX_ID) {
            throw new TokenizerException(origin + ": " + what + " has id " + n + "; expected an integer in [0, " + MAX_ID + ")");
        }
        return n.asInt();
    }

    /** {@code id} where it names a token of this vocabulary, else empty. */
    private OptionalInt known(OptionalInt id) {
        return id.isPresent() && hasId(id.getAsInt()) ? id : OptionalInt.empty();
    }

    private OptionalInt idOf(List<String> specialTexts, String... names) {
        for (String n : names) if (vocab.containsKey(n)) return OptionalInt.of(vocab.get(n));
        return OptionalInt.empty();
    }

    /** The Split pattern of the pre-tokenizer (a Sequence of Split + ByteLevel(use_regex=false), as Llama 3 ships). */
    private String splitRegex(JsonNode pre) {
        List<JsonNode> steps = new ArrayList<>();
        if ("Sequence".equals(pre.path("type").asText())) pre.path("pretokenizers").forEach(steps::add);
        else steps.add(pre);
        for (JsonNode s : steps) {
            if ("Split".equals(s.path("type").asText()) && s.path("pattern").has("Regex")) {
                String behavior = s.path("behavior").asText("Isolated");
                if (!behavior.equals("Isolated") || s.path("invert").asBoolean(false)) {
                    throw new TokenizerException(origin + ": Split behavior " + behavior + " is not supported");
                }
                return s.path("pattern").path("Regex").asText();
            }
            if ("ByteLevel".equals(s.path("type").asText()) && s.path("use_regex").asBoolean(true)) {
                return GPT2_PATTERN;
            }
        }
        throw new TokenizerException(origin + ": no Split regex or ByteLevel pre-tokenizer found");
    }

    public static BpeTokenizer fromJson(byte[] json, String origin) {
        return fromJson(json, origin, OptionalInt.empty(), OptionalInt.empty());
    }

    /**
     * As {@link #fromJson(byte[], String)}, with the BOS and EOS ids given (a GGUF's {@code tokenizer.ggml.bos_token_id}
     * and {@code eos_token_id}); an empty or out-of-vocabulary id falls back to the token named as Llama 3 or
     * SentencePiece name them ({@code <|begin_of_text|>}, {@code <s>}; {@code <|end_of_text|>}, {@code </s>}).
     */
    public static BpeTokenizer fromJson(byte[] json, String origin, OptionalInt bosId, OptionalInt eosId) {
        try {
            return new BpeTokenizer(origin, new ObjectMapper().readTree(json), bosId, eosId);
        } catch (IOException e) {
            throw new TokenizerException(origin + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        int pos = 0;
        if (specials != null) {
            Matcher m = specials.matcher(text);
            while (m.find()) {
                encodeOrdinary(text.substring(pos, m.start()), out);
                out.add(vocab.get(m.group()));
                pos = m.end();
            }
        }
        encodeOrdinary(text.substring(pos), out);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private void encodeOrdinary(String text, List<Integer> out) {
        if (text.isEmpty()) return;
        Matcher m = split.matcher(text);
        int pos = 0;
        while (m.find()) {
            if (m.start() > pos) pretoken(text.substring(pos, m.start()), out); // gaps are pre-tokens too
            if (m.end() > m.start()) pretoken(m.group(), out);
            pos = m.end();
        }
        if (pos < text.length()) pretoken(text.substring(pos), out);
    }

    private void pretoken(String piece, List<Integer> out) {
        int[] ids = cache.computeIfAbsent(piece, this::bpe);
        for (int id : ids) out.add(id);
    }

    private int[] bpe(String piece) {
        String mapped = ByteLevel.encode(piece.getBytes(StandardCharsets.UTF_8));
        Integer whole = vocab.get(mapped);
        if (ignoreMerges && whole != null) return new int[]{whole};
        List<String> parts = new ArrayList<>();
        mapped.codePoints().forEach(cp -> parts.add(new String(Character.toChars(cp))));
        while (parts.size() > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = merges.get(parts.get(i) + " " + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) break;
            parts.set(best, parts.get(best) + parts.remove(best + 1));
        }
        int[] ids = new int[parts.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(parts.get(i));
            if (id == null) {
                throw new TokenizerException(origin + ": cannot tokenize '" + piece + "': '" + parts.get(i) + "' is not in the vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(tokenBytes(id));
        return out.toString(StandardCharsets.UTF_8);
    }

    byte[] tokenBytes(int id) {
        String t = piece(id);
        if (special[id]) return t.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteLevel.decode(t, out);
        return out.toByteArray();
    }

    @Override
    public StreamingDecoder streamingDecoder(boolean atStart) {
        // ids beyond the tokenizer (a model vocabulary padded past it) have no text: they stream as nothing
        return new StreamingDecoder((id, first) -> id < 0 || id >= byId.length || byId[id] == null ? new byte[0]
                : tokenBytes(id), atStart);
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public String piece(int id) {
        if (id < 0 || id >= byId.length || byId[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is outside the tokenizer's vocabulary [0, " + byId.length + ")");
        }
        return byId[id];
    }

    /** Whether {@code id} names a token (vocabularies can have holes). */
    public boolean hasId(int id) {
        return id >= 0 && id < byId.length && byId[id] != null;
    }

    /** The merges, lowest rank first, as "left right". */
    public List<String> merges() {
        return List.copyOf(mergeList);
    }

    @Override
    public OptionalInt id(String piece) {
        Integer i = vocab.get(piece);
        return i == null ? OptionalInt.empty() : OptionalInt.of(i);
    }

    @Override
    public int vocabSize() {
        return byId.length;
    }

    @Override
    public OptionalInt bosId() {
        return bos;
    }

    @Override
    public OptionalInt eosId() {
        return eos;
    }

    @Override
    public void close() {
    }
}
