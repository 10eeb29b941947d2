package dev.nemotron4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.tokenizer.chat.ChatFormat;
import dev.nemotron4j.tokenizer.chat.ChatFormats;
import dev.nemotron4j.tokenizer.chat.ChatMessage;
import dev.nemotron4j.tokenizer.chat.Llama3ChatFormat;
import dev.nemotron4j.tokenizer.chat.NemotronChatFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatFormatsTest {
    @TempDir
    Path tmp;

    @Test
    void theModelsOwnJinjaTemplateRendersTheGoldenPrompt() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(BpeGoldenTest.resource("llama31.golden.json")).get("chat_example");
        List<ChatMessage> msgs = new ArrayList<>();
        golden.get("messages").forEach(m -> msgs.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
        Path cfg = tmp.resolve("tokenizer_config.json");
        Files.write(cfg, BpeGoldenTest.resource("tokenizer_config.json"));
        try (Tokenizer tok = Tokenizers.huggingFaceJson(BpeGoldenTest.resource("tokenizer.json"), "tokenizer.json")) {
            ChatFormat f = ChatFormats.select("auto", "llama", Optional.of(cfg), tok);
            assertTrue(f.name().contains("chat_template"), f.name());
            assertEquals(golden.get("rendered").asText(), f.render(msgs, true));
            assertTrue(f.stopStrings().contains("<|eot_id|>"), f.stopStrings().toString());
            // the built-in fallback agrees with the model's template
            assertEquals(golden.get("rendered").asText(), Llama3ChatFormat.INSTANCE.render(msgs, true));
        }
    }

    @Test
    void nemotronFormatsFollowTheModelCards() {
        List<ChatMessage> turns = List.of(ChatMessage.system(""), ChatMessage.user("Hi"), ChatMessage.assistant("Hello!"),
                ChatMessage.user("How many r in strawberry?"));
        assertEquals("<extra_id_0>System\n\n<extra_id_1>User\nHi\n<extra_id_1>Assistant\nHello!\n"
                        + "<extra_id_1>User\nHow many r in strawberry?\n<extra_id_1>Assistant\n",
                NemotronChatFormat.NEMOTRON.render(turns, true));
        assertEquals("<extra_id_0>System\nBe brief.\n\n<extra_id_1>User\nHi\n<extra_id_1>Assistant\n",
                NemotronChatFormat.NEMOTRON_MINI.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true));
        assertEquals("<extra_id_0>System\n\n<extra_id_1>User\nHi\n", NemotronChatFormat.NEMOTRON.render(List.of(ChatMessage.user("Hi")), false));
        assertTrue(NemotronChatFormat.NEMOTRON.stopStrings().containsAll(List.of("<extra_id_1>", "\u0011", "<|endoftext|>", "</s>")));
        assertEquals(NemotronChatFormat.NEMOTRON, ChatFormats.select("auto", "nemotron", Optional.empty(), null));
        assertEquals(NemotronChatFormat.NEMOTRON_MINI, ChatFormats.select("nemotron-mini", "nemotron", Optional.empty(), null));
    }

    @Test
    void streamingSentencePieceNeverEmitsHalfACharacter() throws Exception {
        try (Tokenizer tok = Tokenizers.sentencePiece(SentencePieceGoldenTest.resource("nemotron-test-1k.model"), "t")) {
            String text = "Unicode: café, über, 中文, русский, emoji 😀🚀";
            int[] ids = tok.encode(text);
            StreamingDecoder s = tok.streamingDecoder(true);
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                String d = s.push(id);
                assertTrue(d.indexOf('\uFFFD') < 0, "half a character after id " + id);
                out.append(d);
            }
            out.append(s.flush());
            assertEquals(text, out.toString());
        }
    }
}
