package dev.nemotron4j.tokenizer.chat;

import java.util.List;

/** How a model expects a conversation to be written, and which strings end its turn. */
public interface ChatFormat {
    String name();

    /** The prompt text; with {@code addGenerationPrompt} it ends where the assistant's reply begins. */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** Text that ends the assistant's turn (never shown to the user). */
    List<String> stopStrings();
}
