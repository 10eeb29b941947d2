package dev.nemotron4j.tokenizer.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.nemotron4j.tokenizer.TokenizerException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's own {@code chat_template} (from {@code tokenizer_config.json}) rendered with Jinjava, with the
 * variables Hugging Face passes: {@code messages}, {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token}.
 */
public final class JinjaChatTemplate implements ChatFormat {
    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final List<String> stops;
    private final Jinjava jinjava;

    public JinjaChatTemplate(String template, String bosToken, String eosToken, List<String> stops) {
        this.template = template;
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.stops = List.copyOf(stops);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(false).withLstripBlocks(false)
                .withFailOnUnknownTokens(false).build());
    }

    @Override
    public String name() {
        return "chat_template (tokenizer_config.json)";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("role", m.role());
            o.put("content", m.content());
            msgs.add(o);
        }
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("messages", msgs);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("bos_token", bosToken);
        ctx.put("eos_token", eosToken);
        RenderResult r = jinjava.renderForResult(template, ctx);
        List<TemplateError> fatal = r.getErrors().stream()
                .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).toList();
        if (!fatal.isEmpty()) {
            throw new TokenizerException("chat_template could not be rendered: " + fatal.getFirst().getMessage());
        }
        return r.getOutput();
    }

    @Override
    public List<String> stopStrings() {
        return stops;
    }
}
