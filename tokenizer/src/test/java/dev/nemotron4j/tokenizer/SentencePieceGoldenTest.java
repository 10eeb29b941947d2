package dev.nemotron4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.tokenizer.sentencepiece.SentencePieceModel;
import dev.nemotron4j.tokenizer.sentencepiece.SentencePieceTokenizer;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Nemotron-style test tokenizer against encodings made with the reference SentencePiece library. */
class SentencePieceGoldenTest {

    static byte[] resource(String name) throws Exception {
        try (InputStream in = SentencePieceGoldenTest.class.getResourceAsStream("/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void encodingsPiecesAndDecodingsMatchTheReference() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(resource("nemotron-test-1k.golden.json"));
        try (Tokenizer tok = Tokenizers.sentencePiece(resource("nemotron-test-1k.model"), "nemotron-test-1k.model")) {
            assertEquals(golden.get("vocab_size").asInt(), tok.vocabSize());
            assertEquals(golden.get("bos_id").asInt(), tok.bosId().orElseThrow());
            assertEquals(golden.get("eos_id").asInt(), tok.eosId().orElseThrow());
            int cases = 0;
            for (JsonNode c : golden.get("cases")) {
                String text = c.get("text").asText();
                int[] want = new int[c.get("ids").size()];
                for (int i = 0; i < want.length; i++) want[i] = c.get("ids").get(i).asInt();
                int[] got = tok.encode(text);
                assertArrayEquals(want, got, "ids of " + text);
                List<String> pieces = new ArrayList<>();
                c.get("pieces").forEach(p -> pieces.add(p.asText()));
                assertEquals(pieces, tok.pieces(got), "pieces of " + text);
                assertEquals(c.get("decoded").asText(), tok.decode(got), "decoding of " + text);
                cases++;
            }
            assertEquals(golden.get("cases").size(), cases);
        }
    }

    @Test
    void specialPiecesHaveTheirTypesAndSingleIds() throws Exception {
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.fromBytes(resource("nemotron-test-1k.model"), "test")) {
            SentencePieceModel m = tok.model();
            assertEquals(SentencePieceModel.Type.CONTROL, m.pieces().get(2).type());
            int extra1 = tok.id("<extra_id_1>").orElseThrow();
            assertEquals(SentencePieceModel.Type.USER_DEFINED, m.pieces().get(extra1).type());
            int[] ids = tok.encode("<extra_id_1>User");
            assertEquals(extra1, ids[0] == tok.id("▁").orElse(-1) ? ids[1] : ids[0]);
            assertThrows(IllegalArgumentException.class, () -> tok.piece(5000));
        }
    }

    @Test
    void corruptModelFileIsReported() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> Tokenizers.sentencePiece(new byte[]{10, (byte) 200, 1}, "broken.model"));
        assertEquals(true, e.getMessage().contains("broken.model"));
    }
}
