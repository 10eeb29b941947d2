package dev.nemotron4j.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broken {@code tokenizer.json} is reported as such, naming the file and what is wrong: before, an id of 300 million
 * ran out of memory, a negative one or a merge of one token indexed past an array, and a bad pattern named no file.
 */
class BpeErrorsTest {
    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
            "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"h\":300000000,\"i\":1},\"merges\":[]}} | 'h' has id 300000000",
            "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"h\":-1,\"i\":1},\"merges\":[]}} | 'h' has id -1",
            "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"h\":0},\"merges\":[]},\"added_tokens\":[{\"id\":2147483647,\"content\":\"<x>\"}]} | '<x>' has id 2147483647",
            "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"h\":0,\"i\":1},\"merges\":[[\"h\"]]}} | merge [\"h\"] is not a pair",
            "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"h\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(ab\"},\"behavior\":\"Isolated\"}} | not a valid regular expression"})
    void brokenTokenizerJsonIsReportedByFileAndCause(String json, String expected) {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> Tokenizers.huggingFaceJson(json.getBytes(StandardCharsets.UTF_8), "broken/tokenizer.json"));
        assertTrue(e.getMessage().startsWith("broken/tokenizer.json: ") && e.getMessage().contains(expected.strip()),
                e.getMessage());
    }
}
