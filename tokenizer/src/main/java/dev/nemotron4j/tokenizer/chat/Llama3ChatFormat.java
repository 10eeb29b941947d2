package dev.nemotron4j.tokenizer.chat;

import java.util.List;

/**
 * Llama 3 / 3.1 header format: {@code <|begin_of_text|>}, then per message
 * {@code <|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>}, generation prompt
 * {@code <|start_header_id|>assistant<|end_header_id|>\n\n} (what the model's own template renders).
 */
public final class Llama3ChatFormat implements ChatFormat {
    public static final Llama3ChatFormat INSTANCE = new Llama3ChatFormat();

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder("<|begin_of_text|>");
        for (ChatMessage m : messages) {
            sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                    .append(m.content().strip()).append("<|eot_id|>");
        }
        if (addGenerationPrompt) sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>");
    }
}
