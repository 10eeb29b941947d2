package dev.nemotron4j.tools.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.engine.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;

import static dev.nemotron4j.engine.testing.Tolerance.assertLogitsClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command-line contract other checks rely on, run in-process. */
class CliTest {

    /** inspect opens the tokenizer as generation would: a corrupt tokenizer.model is a problem, exit 2, named. */
    @Test
    void inspectFindsACorruptTokenizer(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path src = java.nio.file.Path.of(model("nemotron-gqa-f32")), dir = tmp.resolve("hf");
        java.nio.file.Files.createDirectories(dir);
        for (String f : new String[]{"model.safetensors", "config.json"}) java.nio.file.Files.copy(src.resolve(f), dir.resolve(f));
        java.nio.file.Files.writeString(dir.resolve("tokenizer.model"), "not a SentencePiece model at all");
        Run r = run("inspect", "--model", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("cannot run") && r.err().contains("tokenizer.model"), r.err());
    }

    /**
     * A checkpoint error's message in several lines (a JSON parser's, kept inside ours) is printed as one line.
     */
    @Test
    void multiLineMessagesArePrintedAsOneLine() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        int code = Cli.report(new dev.nemotron4j.loader.CheckpointException("x/config.json: not valid JSON: Unexpected end\n at [Source: x; line: 1]"),
                new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        String said = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(2, code);
        assertEquals("nemotron4j: error: x/config.json: not valid JSON: Unexpected end at [Source: x; line: 1]", said.strip());
    }

    /**
     * Java errors that a hostile file can cause (a stack overflow in a reader, a heap too small for a claimed size) get
     * one line, not a stack trace; picocli hands errors on as they are, so {@code Cli} catches them itself.
     */
    @Test
    void errorsAreReportedInOneLineWithoutAStackTrace() {
        for (Throwable t : new Throwable[]{new StackOverflowError(), new OutOfMemoryError("Java heap space")}) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            int code = Cli.report(t, new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
            String said = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(t instanceof StackOverflowError ? 2 : 1, code, said);
            assertTrue(said.startsWith("nemotron4j: error: ") && said.strip().lines().count() == 1, said);
        }
    }
    public record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return new ObjectMapper().readTree(out);
        }
    }

    public static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Cli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String model(String fixture) {
        return Fixtures.path(fixture + "/hf").toString();
    }

    public static String csv(int[] ids) {
        return Arrays.stream(ids).mapToObj(String::valueOf).collect(Collectors.joining(","));
    }

    public static float[] row(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
        return f;
    }

    static int[] ints(JsonNode a) {
        int[] f = new int[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = a.get(i).asInt();
        return f;
    }

    @Test
    void logitsPrintsTheLastRowOrEveryRowMatchingTheGolden() throws Exception {
        for (String fixture : new String[]{"nemotron-gqa-f32", "llama31-f32"}) {
            Fixtures.Prompt p = Fixtures.golden(fixture).prompts().getFirst();
            Run last = run("logits", "--model", model(fixture), "--ids", csv(p.ids()));
            assertEquals(0, last.code(), last.err());
            JsonNode j = last.json();
            assertArrayEquals(p.ids(), ints(j.get("ids")));
            assertEquals(1, j.get("logits").size());
            assertLogitsClose(p.logits()[p.ids().length - 1], row(j.get("logits").get(0)), 0, fixture + " last");

            Run all = run("logits", "--model", model(fixture), "--ids", csv(p.ids()), "--all-positions", "--threads", "2");
            assertEquals(0, all.code(), all.err());
            JsonNode rows = all.json().get("logits");
            assertEquals(p.ids().length, rows.size());
            for (int t = 0; t < rows.size(); t++) assertLogitsClose(p.logits()[t], row(rows.get(t)), 0, fixture + " row " + t);
        }
    }

    @Test
    void generateJsonGivesTheGreedyContinuation() throws Exception {
        Fixtures.Prompt p = Fixtures.golden("nemotron3-mha-legacy").prompts().get(1);
        Run r = run("generate", "--model", model("nemotron3-mha-legacy"), "--ids", csv(p.ids()),
                "--max-tokens", String.valueOf(p.greedy().length), "--temperature", "0", "--json", "--logprobs");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertArrayEquals(p.ids(), ints(j.get("prompt_ids")));
        assertArrayEquals(p.greedy(), ints(j.get("token_ids")));
        assertEquals("max_tokens", j.get("stop_reason").asText());
        assertTrue(j.get("tokens_per_second").asDouble() > 0);
        assertTrue(j.get("text").isTextual());
        assertEquals(p.greedy().length, j.get("logprobs").size());
    }

    @Test
    void benchJsonHasTheDocumentedShapeWithAndWithoutDepth() throws Exception {
        Run r = run("bench", "--model", model("nemotron-gqa-f32"), "-p", "6", "-n", "3", "-r", "2", "-t", "2", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals(model("nemotron-gqa-f32"), j.get("model").asText());
        assertEquals(2, j.get("threads").asInt());
        assertTrue(j.get("bytes_per_token").asLong() > 0);
        assertEquals(2, j.get("results").size());
        assertEquals("pp6", j.get("results").get(0).get("test").asText());
        assertEquals("tg3", j.get("results").get(1).get("test").asText());
        for (JsonNode t : j.get("results")) {
            JsonNode tps = t.get("tokens_per_second");
            assertTrue(tps.get("min").asDouble() > 0 && tps.get("min").asDouble() <= tps.get("median").asDouble()
                    && tps.get("median").asDouble() <= tps.get("max").asDouble(), t.toString());
            assertTrue(tps.get("std").asDouble() >= 0, t.toString());
        }
        // the roofline: the read bandwidth measured after each decode run, and decode's share of it
        assertTrue(j.get("read_gigabytes_per_second").asDouble() > 0, j.toString());
        double share = j.get("results").get(1).get("roofline_fraction").asDouble();
        assertTrue(share > 0 && Double.isFinite(share), j.toString());
        assertTrue(!j.get("results").get(0).has("roofline_fraction"), "prefill has no roofline share");
        // prefill's FLOP/s: its tokens/s times the arithmetic of a 6-token prompt over tokens
        JsonNode pp = j.get("results").get(0);
        assertTrue(pp.get("gigaflops_per_second").asDouble() > 0 && !j.get("results").get(1).has("gigaflops_per_second"), pp.toString());
        JsonNode without = run("bench", "--model", model("nemotron-gqa-f32"), "-p", "0", "-n", "2", "-r", "1", "--no-roofline", "--json").json();
        assertTrue(!without.has("read_gigabytes_per_second") && !without.get("results").get(0).has("roofline_fraction"), without.toString());

        // the table's header names the vector width, which says which kernels ran (AVX-512's or AVX2's)
        Run table = run("bench", "--model", model("nemotron-gqa-f32"), "-p", "6", "-n", "2", "-r", "1", "--no-roofline");
        assertTrue(table.out().contains("SIMD " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit"), table.out());

        JsonNode deep = run("bench", "--model", model("nemotron-gqa-f32"), "-p", "6", "-n", "3", "-r", "1", "-d", "40", "--json").json();
        assertEquals("pp6 @ d40", deep.get("results").get(0).get("test").asText());
        assertEquals("tg3 @ d40", deep.get("results").get(1).get("test").asText());

        Run tooDeep = run("bench", "--model", model("nemotron-gqa-f32"), "-p", "6", "-n", "3", "-d", "100000");
        assertEquals(2, tooDeep.code());
        assertTrue(tooDeep.err().contains("depth 100000"), tooDeep.err());
        Run negative = run("bench", "--model", model("nemotron-gqa-f32"), "-d", "-1");
        assertEquals(2, negative.code());
        assertTrue(negative.err().contains("--depth must be >= 0"), negative.err());
    }

    @Test
    void samplingFlagsAreReadAndTheSameSeedGivesTheSameTokensFromHfAndNemo() throws Exception {
        String[] common = {"--prompt", "Hello, world!", "-n", "24", "--temperature", "1.1", "--top-k", "0", "--top-p", "0.9",
                "--min-p", "0.01", "--repetition-penalty", "1.2", "--seed", "99", "--json"};
        JsonNode hf = run(cat(new String[]{"generate", "--model", model("nemotron-gqa-f32")}, common)).json();
        JsonNode nemo = run(cat(new String[]{"generate", "--model", Fixtures.path("nemotron-gqa-f32/model.nemo").toString()}, common)).json();
        assertEquals(hf.get("token_ids"), nemo.get("token_ids"));
        assertEquals(hf.get("text"), nemo.get("text"));
        JsonNode other = run(cat(new String[]{"generate", "--model", model("nemotron-gqa-f32")},
                cat(java.util.Arrays.copyOf(common, common.length - 3), new String[]{"--seed", "100", "--json"}))).json();
        assertFalse(hf.get("token_ids").equals(other.get("token_ids")));
        JsonNode greedy = run("generate", "--model", model("nemotron-gqa-f32"), "--prompt", "Hello, world!", "-n", "24",
                "--temperature", "0", "--json").json();
        assertFalse(hf.get("token_ids").equals(greedy.get("token_ids")));
        JsonNode stopped = run("generate", "--model", model("nemotron-gqa-f32"), "--prompt", "Hello, world!",
                "--temperature", "0", "--min-tokens", "3", "--max-tokens", "5", "--json").json();
        assertEquals(5, stopped.get("token_ids").size());
        Run bad = run("generate", "--model", model("nemotron-gqa-f32"), "--ids", "1", "--top-p", "1.5");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("top-p"), bad.err());
    }

    public static String[] cat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void promptTextIsTokenizedWithTheModelsTokenizerWithoutBos() throws Exception {
        Run tok = run("tokenize", "--model", model("nemotron-gqa-f32"), "--text", "Hello, world!");
        assertEquals(0, tok.code(), tok.err());
        assertArrayEquals(new int[]{639, 943, 654, 945, 963, 284, 277, 577, 1022}, ints(tok.json().get("ids")));
        assertEquals("▁H", tok.json().get("pieces").get(0).asText());

        Run byText = run("generate", "--model", model("nemotron-gqa-f32"), "--prompt", "Hello, world!", "-n", "4", "--json");
        Run byIds = run("generate", "--model", model("nemotron-gqa-f32"), "--ids", "639,943,654,945,963,284,277,577,1022",
                "-n", "4", "--json");
        assertEquals(0, byText.code(), byText.err());
        assertEquals(byIds.json().get("token_ids"), byText.json().get("token_ids"));
        assertEquals(byIds.json().get("text"), byText.json().get("text"));
        Run withBos = run("logits", "--model", model("nemotron-gqa-f32"), "--prompt", "Hello", "--bos");
        assertEquals(2, withBos.json().get("ids").get(0).asInt());
    }

    /** --prompt-file reads the text that --prompt would take, from a file or ('-') standard input, byte for byte. */
    @Test
    void aPromptFileOrStandardInputGivesWhatPromptGives(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        String text = "Hello, world!\nÜber zwei Zeilen.";
        java.nio.file.Path file = tmp.resolve("prompt.txt");
        java.nio.file.Files.writeString(file, text);
        Run byText = run("generate", "--model", model("nemotron-gqa-f32"), "--prompt", text, "-n", "3", "--json");
        Run byFile = run("generate", "--model", model("nemotron-gqa-f32"), "-f", file.toString(), "-n", "3", "--json");
        assertEquals(0, byFile.code(), byFile.err());
        assertEquals(byText.json().get("prompt_ids"), byFile.json().get("prompt_ids"));
        assertEquals(byText.json().get("token_ids"), byFile.json().get("token_ids"));
        assertEquals(text, InputOptions.promptText("-",
                new java.io.ByteArrayInputStream(text.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        // a terminal on standard input is told how to end the prompt; a pipe or a file is read without a word
        assertTrue(InputOptions.stdinHint("-", true).contains("Ctrl-D"));
        assertEquals(null, InputOptions.stdinHint("-", false));
        assertEquals(null, InputOptions.stdinHint(file.toString(), true));
        assertTrue(!byFile.err().contains("Ctrl-D"), byFile.err());

        java.nio.file.Path latin1 = tmp.resolve("latin1.txt");
        java.nio.file.Files.write(latin1, new byte[]{'c', 'a', 'f', (byte) 0xE9});
        String[][] said = {
                {"latin1.txt is not UTF-8 text", "generate", "--model", model("nemotron-gqa-f32"), "-f", latin1.toString()},
                {"nope.txt does not exist", "logits", "--model", model("nemotron-gqa-f32"), "-f", tmp.resolve("nope.txt").toString()},
                {"is not a file", "logits", "--model", model("nemotron-gqa-f32"), "--prompt-file", tmp.toString()},
                // read before the model loads: said even where the model would fail next
                {"nope.txt does not exist", "generate", "--model", tmp.resolve("no-model").toString(), "-f", tmp.resolve("nope.txt").toString()},
                {"give only one of --ids, --prompt (-p) and --prompt-file (-f)", "generate", "--model", model("nemotron-gqa-f32"), "-f", file.toString(), "-p", "Hi"},
                {"give only one of", "logits", "--model", model("nemotron-gqa-f32"), "--ids", "1", "--prompt", "Hi"},
                {"no input: give --ids, --prompt (-p) or --prompt-file (-f)", "generate", "--model", model("nemotron-gqa-f32")},
        };
        for (String[] c : said) {
            Run r = run(Arrays.copyOfRange(c, 1, c.length));
            assertEquals(2, r.code(), String.join(" ", c) + " -> " + r.err());
            assertTrue(r.err().contains(c[0]), String.join(" ", c) + " -> " + r.err());
            assertEquals("", r.out());
        }
    }

    @Test
    void inspectDescribesTheModel() throws Exception {
        Run r = run("inspect", "--model", model("llama31-f32"), "--json", "--tensors");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("llama", j.get("architecture").asText());
        assertEquals(2, j.get("kv_heads").asInt());
        assertTrue(j.get("layout").asText().contains("sharded"));
        assertEquals(j.get("tensor_count").asInt(), j.get("tensors").size());
        long params = j.get("parameters").asLong();
        assertEquals(params * 4, j.get("bytes").asLong());
        assertTrue(j.get("weights_ok").asBoolean(), r.out());
        Run text = run("inspect", "--model", model("nemotron-gqa-f32"));
        assertEquals(0, text.code());
        assertTrue(text.out().contains("GQA") && text.out().contains("layernorm_1p"), text.out());
        assertTrue(text.out().contains("check         ok"), text.out());
    }

    /**
     * inspect binds the weights as loading would: a config that disagrees with the tensors (an FFN of 256 where the
     * file's MLP has 192 rows) is still described, then named as the problem, with exit code 1.
     */
    @Test
    void inspectNamesATensorWhoseShapeTheArchitectureCannotUse(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path src = java.nio.file.Path.of(model("nemotron-gqa-f32")), dir = tmp.resolve("hf");
        java.nio.file.Files.createDirectories(dir);
        for (String f : new String[]{"model.safetensors", "tokenizer.model"}) java.nio.file.Files.copy(src.resolve(f), dir.resolve(f));
        String config = java.nio.file.Files.readString(src.resolve("config.json"));
        assertTrue(config.contains("\"intermediate_size\": 192"), config);
        java.nio.file.Files.writeString(dir.resolve("config.json"), config.replace("\"intermediate_size\": 192", "\"intermediate_size\": 256"));

        Run text = run("inspect", "--model", dir.toString());
        assertEquals(2, text.code(), text.err());
        assertTrue(text.out().contains("hidden        64, ffn 256") && text.out().contains("check         PROBLEM"), text.out());
        assertTrue(text.err().contains("cannot run") && text.err().contains("model.safetensors") && text.err().contains("up_proj")
                && text.err().contains("[192, 64]"), text.err());
        Run json = run("inspect", "--model", dir.toString(), "--json");
        assertEquals(2, json.code());
        assertFalse(json.json().get("weights_ok").asBoolean());
        assertTrue(json.json().get("weights_problem").asText().contains("up_proj"), json.out());
        // generation refuses the same model with the same words
        Run gen = run("generate", "--model", dir.toString(), "--ids", "1", "-n", "1");
        assertEquals(2, gen.code());
        assertTrue(gen.err().contains(json.json().get("weights_problem").asText()), gen.err());
    }

    @Test
    void userMistakesGiveOneLineOnStderrAndExitCodeTwo() {
        String[][] cases = {
                {"logits", "--model", "/no/such/model", "--ids", "1,2"},
                {"logits", "--model", model("llama31-f32"), "--prompt", "needs a tokenizer"},
                {"logits", "--model", model("nemotron-gqa-f32"), "--ids", "1,99999"},
                {"logits", "--model", model("nemotron-gqa-f32"), "--ids", "1,2", "--context", "1"},
                {"generate", "--model", model("nemotron-gqa-f32"), "--ids", "1,2", "--bogus"},
                {"generate", "--model", model("nemotron-gqa-f32")},
                {"logits", "--model", model("nemotron-gqa-f32"), "--ids", "1", "--prompt", "both"},
                {"generate", "--model", model("nemotron-gqa-f32"), "--ids", "1,x"},
                {"generate", "--model", model("nemotron-gqa-f32"), "--ids", "1,2", "-t", "100000"},
                {"generate", "--model", model("nemotron-gqa-f32"), "--ids", "1,2", "--bos"},
                {"generate", "--model", model("nemotron-gqa-f32"), "--ids", "1,-1"},
                {"generate", "--model", model("nemotron-gqa-f32"), "--ids", "1", "--top-p", "2"},
                {"bench", "--model", model("nemotron-gqa-f32"), "-p", "0", "-n", "0"},
                {"logits", "--model", model("nemotron-gqa-f32") + "/config.json", "--ids", "1"},
                {"random-model", "--preset", "nemotron-small", "--out", "/no/such/folder/x.gguf"},
                {"random-model", "--preset", "nemotron-small", "--dtype", "q6_k", "--out", "x-never-written.gguf"},
                {"random-model", "--preset", "nemotron-small", "--dtype", "q4_0", "--out", "x-never-written"},
                {"quantize", "--model", model("nemotron-gqa-f32"), "--type", "q8_0", "--out", "/no/such/folder/x.gguf"},
        };
        for (String[] args : cases) {
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
            String[] lines = r.err().strip().split("\n");
            assertTrue(lines.length <= 2 && lines[0].startsWith("nemotron4j"), String.join(" ", args) + " -> " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
            assertEquals("", r.out());
        }
        Run overflow = run("logits", "--model", model("nemotron-gqa-f32"), "--ids", "1,2,3", "--context", "2");
        assertTrue(overflow.err().contains("context holds 2"), overflow.err());
        // the messages name what to change
        String[][] said = {
                {"--threads 100000 is more than", "generate", "--model", model("nemotron-gqa-f32"), "--ids", "1", "-t", "100000"},
                {"--bos goes with --prompt", "generate", "--model", model("nemotron-gqa-f32"), "--ids", "1", "--bos"},
                {"--ids: token id 99999 is outside", "logits", "--model", model("nemotron-gqa-f32"), "--ids", "1,99999"},
                {"--top-p must be", "generate", "--model", model("nemotron-gqa-f32"), "--ids", "1", "--top-p", "2"},
                {"--min-tokens 10 is more than --max-tokens (-n) 2", "generate", "--model", model("nemotron-gqa-f32"), "--ids", "1", "--min-tokens", "10", "-n", "2"},
                {"--max-tokens (-n) must be 0 or more, got -1", "generate", "--model", model("nemotron-gqa-f32"), "--ids", "1", "-n", "-1"},
                {"nothing to measure", "bench", "--model", model("nemotron-gqa-f32"), "-p", "0", "-n", "0"},
                {"pass the folder itself", "logits", "--model", model("nemotron-gqa-f32") + "/config.json", "--ids", "1"},
                {"/no/such/folder does not exist", "random-model", "--preset", "nemotron-small", "--out", "/no/such/folder/x.gguf"},
                {"--dtype q6_k: expected bf16, f16, f32, q8_0 or q4_0", "random-model", "--preset", "nemotron-small", "--dtype", "q6_k", "--out", "x-never-written.gguf"},
                {"--dtype q4_0 makes a .gguf file only", "random-model", "--preset", "nemotron-small", "--dtype", "q4_0", "--out", "x-never-written"},
                {"/no/such/folder does not exist", "quantize", "--model", model("nemotron-gqa-f32"), "--type", "q8_0", "--out", "/no/such/folder/x.gguf"},
                // root may write by its permission bits, but not make a file there: said before the model is read
                {"the folder /proc cannot be written to", "random-model", "--preset", "nemotron-small", "--out", "/proc/x.gguf"},
                {"the folder /proc cannot be written to", "quantize", "--model", model("nemotron-gqa-f32"), "--type", "q8_0", "--out", "/proc/x.gguf"},
        };
        for (String[] c : said) {
            Run r = run(Arrays.copyOfRange(c, 1, c.length));
            assertTrue(r.err().contains(c[0]), String.join(" ", c) + " -> " + r.err());
        }
    }

    /** The check that a folder takes files makes one and leaves nothing behind. */
    @Test
    void theWritableFolderCheckLeavesNothingBehind(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        assertTrue(OutputPaths.canCreateFileIn(tmp));
        try (var files = java.nio.file.Files.list(tmp)) {
            assertEquals(0, files.count(), "the probe file was left");
        }
        assertFalse(OutputPaths.canCreateFileIn(tmp.resolve("absent")));
    }

    /** random-model never writes into a folder that holds anything (it used to replace config.json beside other shards). */
    @Test
    void randomModelLeavesAFolderWithFilesAlone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path dir = tmp.resolve("a-model");
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"mine\": true}");
        Run r = run("random-model", "--preset", "nemotron-small", "--out", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is not empty"), r.err());
        assertEquals("{\"mine\": true}", java.nio.file.Files.readString(dir.resolve("config.json")));
        try (var files = java.nio.file.Files.list(dir)) {
            assertEquals(1, files.count(), "nothing added");
        }
    }

    /**
     * A warm-up longer than the quiet spell says so on stderr and says "ready" when done; a context larger than the
     * model's is reported as the one used. (The fixtures warm up in well under the default 1.5 s quiet spell of a
     * terminal user, so the spell is set to 0 here, then to an hour.)
     */
    @Test
    void aLongWarmUpIsAnnouncedAndAnOversizedContextReported() {
        String old = System.getProperty("nemotron4j.quietMillis");
        try {
            System.setProperty("nemotron4j.quietMillis", "0");
            Run loud = run("generate", "--model", model("nemotron-gqa-f32"), "--ids", "1,2", "-n", "2", "--context", "100000");
            assertEquals(0, loud.code(), loud.err());
            assertTrue(loud.err().contains("warming up") && loud.err().contains("ready in"), loud.err());
            assertTrue(loud.err().indexOf("warming up") < loud.err().indexOf("ready in"), loud.err());
            assertTrue(loud.err().contains("warning: --context 100000 is more than"), loud.err());
            System.setProperty("nemotron4j.quietMillis", "3600000");
            Run quiet = run("generate", "--model", model("nemotron-gqa-f32"), "--ids", "1,2", "-n", "2");
            assertEquals(0, quiet.code(), quiet.err());
            assertFalse(quiet.err().contains("warming up") || quiet.err().contains("ready in"), quiet.err());
        } finally {
            if (old == null) System.clearProperty("nemotron4j.quietMillis");
            else System.setProperty("nemotron4j.quietMillis", old);
        }
    }

    @Test
    void helpExplainsEveryCommand() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String cmd : new String[]{"generate", "logits", "inspect", "tokenize"}) assertTrue(r.out().contains(cmd));
        // the launcher's and the error path's environment variables are named
        assertTrue(r.out().contains("NEMOTRON4J_JAVA_OPTS") && r.out().contains("NEMOTRON4J_DEBUG"), r.out());
        // bench names the kernels' A/B switches and how to pass them
        Run b = run("bench", "--help");
        assertTrue(b.out().contains("NEMOTRON4J_JAVA_OPTS") && b.out().contains("-Dn4j.noIntDot=true")
                && b.out().contains("-Dn4j.q6Groups=true"), b.out());
        Run g = run("generate", "--help");
        assertTrue(g.out().contains("--max-tokens") && g.out().contains("--temperature") && g.out().contains("--json"), g.out());
        for (String cmd : new String[]{"chat", "generate", "bench", "quantize", "random-model", "convert", "inspect", "logits", "tokenize"}) {
            Run h = run(cmd, "--help");
            assertTrue(h.out().contains("Examples:") && h.out().contains("nemotron4j " + cmd + " "), cmd + " --help: " + h.out());
        }
    }
}
