package dev.nemotron4j.tools.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.engine.testing.Fixtures;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.nemotron4j.engine.testing.Tolerance.assertLogitsClose;
import static dev.nemotron4j.tools.cli.CliTest.csv;
import static dev.nemotron4j.tools.cli.CliTest.row;
import static dev.nemotron4j.tools.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** convert: .nemo → Hugging Face folder, which then gives the source's logits and greedy tokens. */
class ConvertTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({"nemotron-gqa-f32, model.nemo, 1", "nemotron-gqa-bf16-zarr, model.nemo.d, 0.0003",
            "nemotron-tp2-bf16, model.nemo, 1", "nemotron3-mha-legacy, model.nemo, 0.0004"})
    void convertedFolderGivesTheSameLogitsAsTheSource(String fixture, String file, String shardGb) throws Exception {
        Path src = Fixtures.path(fixture + "/" + file);
        Path out = tmp.resolve("hf");
        CliTest.Run conv = run("convert", "--model", src.toString(), "--out", out.toString(), "--shard-size", shardGb);
        assertEquals(0, conv.code(), conv.err());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.model")));
        boolean sharded = Double.parseDouble(shardGb) < 1;
        assertEquals(sharded, Files.isRegularFile(out.resolve("model.safetensors.index.json")));
        String config = Files.readString(out.resolve("config.json"));
        assertTrue(config.contains("\"model_type\" : \"nemotron\""), config);

        Fixtures.Prompt p = Fixtures.golden(fixture).prompts().getFirst();
        JsonNode a = run("logits", "--model", src.toString(), "--ids", csv(p.ids()), "--all-positions").json();
        JsonNode b = run("logits", "--model", out.toString(), "--ids", csv(p.ids()), "--all-positions").json();
        for (int t = 0; t < p.ids().length; t++) {
            assertLogitsClose(row(a.get("logits").get(t)), row(b.get("logits").get(t)), 0, "converted position " + t);
            assertLogitsClose(p.logits()[t], row(b.get("logits").get(t)), 0, "converted vs golden " + t);
        }
        JsonNode g = run("generate", "--model", out.toString(), "--ids", csv(p.ids()), "-n", String.valueOf(p.greedy().length),
                "--temperature", "0", "--json").json();
        assertEquals(csv(p.greedy()), csv(CliTest.ints(g.get("token_ids"))));
        JsonNode tok = run("tokenize", "--model", out.toString(), "--text", "Hello, world!").json();
        assertEquals(639, tok.get("ids").get(0).asInt());

        CliTest.Run again = run("convert", "--model", src.toString(), "--out", out.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("not empty"), again.err());
    }
}
