package dev.nemotron4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Llama 3.1 byte-level BPE against encodings made with the reference tokenizer. */
class BpeGoldenTest {
    static byte[] resource(String name) throws Exception {
        try (InputStream in = BpeGoldenTest.class.getResourceAsStream("/llama31/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void encodingsAndRoundTripsMatchTheReference() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(resource("llama31.golden.json"));
        try (Tokenizer tok = Tokenizers.huggingFaceJson(resource("tokenizer.json"), "tokenizer.json")) {
            assertEquals(128256, tok.vocabSize());
            assertEquals(128000, tok.bosId().orElseThrow());
            for (JsonNode c : golden.get("cases")) {
                String text = c.get("text").asText();
                int[] want = new int[c.get("ids").size()];
                for (int i = 0; i < want.length; i++) want[i] = c.get("ids").get(i).asInt();
                assertArrayEquals(want, tok.encode(text), "ids of " + text);
                assertEquals(text, tok.decode(want), "round trip of " + text);
                StreamingDecoder s = tok.streamingDecoder(true);
                StringBuilder streamed = new StringBuilder();
                for (int id : want) {
                    String delta = s.push(id);
                    assertTrue(delta.indexOf('\uFFFD') < 0, "no half characters while streaming " + text);
                    streamed.append(delta);
                }
                streamed.append(s.flush());
                assertEquals(text, streamed.toString());
            }
            assertTrue(tok.isSpecial(128009));
        }
    }
}
