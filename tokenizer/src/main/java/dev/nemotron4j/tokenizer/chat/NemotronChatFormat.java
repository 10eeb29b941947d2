package dev.nemotron4j.tokenizer.chat;

import java.util.List;

/**
 * NeMo's chat format (spec §7.4): {@code <extra_id_0>System\n{system}\n}, then {@code <extra_id_1>{Role}\n{text}\n}
 * per turn, generation prompt {@code <extra_id_1>Assistant\n}. Nemotron-Mini-4B-Instruct puts a blank line
 * after the system text.
 */
public record NemotronChatFormat(boolean blankLineAfterSystem) implements ChatFormat {
    public static final NemotronChatFormat NEMOTRON = new NemotronChatFormat(false);
    public static final NemotronChatFormat NEMOTRON_MINI = new NemotronChatFormat(true);

    @Override
    public String name() {
        return blankLineAfterSystem ? "nemotron-mini" : "nemotron";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder("<extra_id_0>System\n");
        int start = 0;
        if (!messages.isEmpty() && messages.getFirst().role().equals("system")) {
            sb.append(messages.getFirst().content());
            start = 1;
        }
        sb.append('\n');
        if (blankLineAfterSystem) sb.append('\n');
        for (ChatMessage m : messages.subList(start, messages.size())) {
            sb.append("<extra_id_1>").append(capitalise(m.role())).append('\n').append(m.content()).append('\n');
        }
        if (addGenerationPrompt) sb.append("<extra_id_1>Assistant\n");
        return sb.toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("<extra_id_1>", "\u0011", "<|endoftext|>", "</s>");
    }

    private static String capitalise(String role) {
        return role.isEmpty() ? role : Character.toUpperCase(role.charAt(0)) + role.substring(1);
    }
}
