package dev.nemotron4j.engine;

import dev.nemotron4j.engine.chat.ChatSession;
import dev.nemotron4j.engine.generate.GenerationResult;
import dev.nemotron4j.engine.sampling.SamplingParams;
import dev.nemotron4j.engine.testing.Fixtures;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.chat.ChatMessage;
import dev.nemotron4j.tokenizer.chat.NemotronChatFormat;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatSessionTest {
    static final SamplingParams GREEDY = SamplingParams.greedy(12);

    /** A chat template that renders nothing is named as the cause, not reported as "cannot truncate 0 tokens to -1". */
    @Test
    void aFormatThatRendersNothingIsReportedAsSuch() {
        dev.nemotron4j.tokenizer.chat.ChatFormat silent = new dev.nemotron4j.tokenizer.chat.ChatFormat() {
            public String name() {
                return "silent";
            }

            public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
                return "";
            }

            public List<String> stopStrings() {
                return List.of();
            }
        };
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"));
             Tokenizer tok = ModelTokenizers.require(model.checkpoint());
             ChatSession chat = new ChatSession(model, tok, silent, "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> chat.send("Hi", GREEDY, t -> true));
            assertTrue(e.getMessage().contains("no text at all"), e.getMessage());
        }
    }

    /** A tokenizer with more tokens than the model has rows does not go with it (found at load, not mid-generation). */
    @Test
    void aTokenizerLargerThanTheModelsVocabularyIsRefused() {
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"));
             Tokenizer tok = ModelTokenizers.require(model.checkpoint())) {
            int vocab = model.checkpoint().config().vocabSize();
            assertEquals(null, ModelTokenizers.mismatch(tok, vocab));
            String problem = ModelTokenizers.mismatch(tok, tok.vocabSize() - 1);
            assertTrue(problem != null && problem.contains(tok.vocabSize() + " tokens"), problem);
        }
    }

    @Test
    void warmingUpLeavesTheConversationAsItWas() {
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"));
             Tokenizer tok = ModelTokenizers.require(model.checkpoint());
             ChatSession chat = new ChatSession(model, tok, NemotronChatFormat.NEMOTRON, "Be brief.")) {
            GenerationResult cold;
            try (ChatSession other = new ChatSession(model, tok, NemotronChatFormat.NEMOTRON, "Be brief.")) {
                cold = other.send("Hello there", GREEDY, t -> true);
            }
            assertTrue(chat.warmUp(SamplingParams.defaults().withSeed(2)) >= 1);
            assertEquals(0, chat.contextUsed());
            assertTrue(chat.history().isEmpty());
            GenerationResult first = chat.send("Hello there", GREEDY, t -> true);
            assertArrayEquals(cold.tokenIds(), first.tokenIds());
            assertEquals(0, chat.reusedTokens());
            assertEquals(2, chat.history().size());
        }
    }

    @Test
    void aFollowUpReusesTheCachedPrefixAndGivesWhatAFullRecomputeGives() {
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"));
             Tokenizer tok = ModelTokenizers.require(model.checkpoint());
             ChatSession chat = new ChatSession(model, tok, NemotronChatFormat.NEMOTRON, "Be brief.")) {
            GenerationResult first = chat.send("Hello there", GREEDY, t -> true);
            assertEquals(0, chat.reusedTokens());
            GenerationResult second = chat.send("And then?", GREEDY, t -> true);
            int firstPrompt = tok.encode(NemotronChatFormat.NEMOTRON.render(List.of(ChatMessage.system("Be brief."),
                    ChatMessage.user("Hello there")), true)).length;
            assertTrue(chat.reusedTokens() >= firstPrompt, "reused " + chat.reusedTokens() + " of " + firstPrompt);

            // the whole first exchange came from the cache: prompt plus every reply token fed back
            assertTrue(chat.reusedTokens() >= firstPrompt + first.tokenIds().length - 1,
                    "reused " + chat.reusedTokens() + ", first turn had " + (firstPrompt + first.tokenIds().length));
            // and the reply equals a from-scratch run over the same ids
            GenerationResult scratch = model.generate(chat.lastPromptIds(),
                    GREEDY.withStopStrings(NemotronChatFormat.NEMOTRON.stopStrings()), tok, t -> true);
            assertArrayEquals(scratch.tokenIds(), second.tokenIds());
            // the prompt ids decode to the rendered conversation
            List<ChatMessage> all = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello there"),
                    ChatMessage.assistant(first.text()), ChatMessage.user("And then?"));
            assertEquals(NemotronChatFormat.NEMOTRON.render(all, true), tok.decode(chat.lastPromptIds()));
            assertEquals(4, chat.history().size());
            assertEquals(second.text(), chat.history().getLast().content());
        }
    }

    @Test
    void aLongConversationDropsTheOldestTurnsAndATooLongMessageIsRefused() {
        try (NemotronModel model = NemotronModel.load(Fixtures.path("nemotron-gqa-f32/hf"), LoadOptions.defaults().withContextLength(96));
             Tokenizer tok = ModelTokenizers.require(model.checkpoint());
             ChatSession chat = new ChatSession(model, tok, NemotronChatFormat.NEMOTRON, "")) {
            for (int i = 0; i < 6; i++) chat.send("message number " + i + " with some words", GREEDY, t -> true);
            assertTrue(chat.droppedTurns() > 0, "dropped " + chat.droppedTurns());
            assertTrue(chat.contextUsed() <= 96);
            assertEquals("message number 5 with some words", chat.history().get(chat.history().size() - 2).content());
            int before = chat.history().size();
            ContextOverflowException e = assertThrows(ContextOverflowException.class,
                    () -> chat.send("word ".repeat(200), GREEDY, t -> true));
            assertTrue(e.getMessage().contains("context holds 96"), e.getMessage());
            assertEquals(before, chat.history().size());
            chat.send("still works", GREEDY, t -> true);
        }
    }
}
