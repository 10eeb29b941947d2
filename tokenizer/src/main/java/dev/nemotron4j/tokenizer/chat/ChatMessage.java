package dev.nemotron4j.tokenizer.chat;

/** One turn of a conversation; role is "system", "user" or "assistant" (Nemotron also knows "tool"). */
public record ChatMessage(String role, String content) {
    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
