package dev.nemotron4j.tokenizer.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Picks a model's chat format: its own {@code chat_template} when the folder ships one, else the built-in
 * format of its family ("nemotron" or "llama"), unless the user names one.
 */
public final class ChatFormats {
    public static final List<String> NAMES = List.of("auto", "nemotron", "nemotron-mini", "llama3");

    private ChatFormats() {
    }

    public static ChatFormat byName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "nemotron" -> NemotronChatFormat.NEMOTRON;
            case "nemotron-mini" -> NemotronChatFormat.NEMOTRON_MINI;
            case "llama3", "llama-3", "llama3.1" -> Llama3ChatFormat.INSTANCE;
            default -> throw new IllegalArgumentException("unknown chat format '" + name + "' (one of " + NAMES + ")");
        };
    }

    /**
     * @param requested  "auto" or a name from {@link #NAMES}
     * @param family     the model's {@code model_type} ("nemotron" or "llama")
     * @param tokenizerConfig {@code tokenizer_config.json}, if the model has one
     */
    public static ChatFormat select(String requested, String family, Optional<Path> tokenizerConfig, Tokenizer tokenizer) {
        if (!requested.equalsIgnoreCase("auto")) return byName(requested);
        if (tokenizerConfig.isPresent()) {
            Optional<ChatFormat> jinja = fromTokenizerConfig(tokenizerConfig.get(), family, tokenizer);
            if (jinja.isPresent()) return jinja.get();
        }
        return family.equals("llama") ? Llama3ChatFormat.INSTANCE : NemotronChatFormat.NEMOTRON;
    }

    static Optional<ChatFormat> fromTokenizerConfig(Path file, String family, Tokenizer tokenizer) {
        JsonNode cfg;
        try {
            cfg = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode t = cfg.path("chat_template");
        String template = null;
        if (t.isTextual()) {
            template = t.asText();
        } else if (t.isArray()) { // [{"name": "default", "template": "..."}, ...]
            for (JsonNode n : t) if ("default".equals(n.path("name").asText())) template = n.path("template").asText();
        }
        if (template == null || template.isBlank()) return Optional.empty();
        String bos = token(cfg.path("bos_token")), eos = token(cfg.path("eos_token"));
        List<String> stops = new ArrayList<>();
        ChatFormat builtin = family.equals("llama") ? Llama3ChatFormat.INSTANCE : NemotronChatFormat.NEMOTRON;
        for (String s : builtin.stopStrings()) {
            if (tokenizer == null || tokenizer.id(s).isPresent() || s.length() == 1) stops.add(s);
        }
        if (eos != null && !eos.isEmpty() && !stops.contains(eos)) stops.add(eos);
        return Optional.of(new JinjaChatTemplate(template, bos, eos, stops));
    }

    private static String token(JsonNode n) {
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.path("content").asText();
        return null;
    }
}
