package dev.nemotron4j.tools.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.engine.GgufTokenizers;
import dev.nemotron4j.engine.LoadOptions;
import dev.nemotron4j.engine.ModelTokenizers;
import dev.nemotron4j.engine.NemotronModel;
import dev.nemotron4j.engine.testing.Fixtures;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.config.Activation;
import dev.nemotron4j.loader.config.Architecture;
import dev.nemotron4j.loader.config.ModelConfig;
import dev.nemotron4j.loader.config.NormKind;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.tools.models.RandomModel;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.nemotron4j.engine.testing.Tolerance.assertLogitsClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** quantize → GGUF → the engine: goldens, round trips, tokenizers from GGUF metadata, and broken files. */
class GgufTest {
    @TempDir
    Path tmp;

    Path quantize(String fixture, String type) {
        return quantize(fixture, "hf", type);
    }

    /** {@code quantize} of the fixture's {@code source} (its HF folder, a .nemo file or an extracted .nemo). */
    Path quantize(String fixture, String source, String type) {
        return quantize(Fixtures.path(fixture + "/" + source), type, tmp.resolve(fixture + "-" + source + "-" + type + ".gguf"));
    }

    /** {@code quantize} of {@code model} to {@code out}, which it returns. */
    static Path quantize(Path model, String type, Path out) {
        CliTest.Run r = CliTest.run("quantize", "--model", model.toString(), "--type", type, "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out;
    }

    /** The logits of {@code model} at every position of {@code ids}, prefilled at once. */
    static float[] logits(Path model, int[] ids) {
        try (NemotronModel m = NemotronModel.load(model, LoadOptions.defaults().withThreads(2)); var s = m.newSession()) {
            return s.prefillAll(ids);
        }
    }

    /** The Llama 3 tokenizer of the tokenizer module's tests (tokenizer.json and its golden encodings). */
    static Path llamaTokenizerFolder() {
        return Fixtures.root().getParent().getParent().getParent().getParent().getParent()
                .resolve("tokenizer/src/test/resources/llama31");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "llama31-f32", "nemotron3-mha-legacy", "nemotron-gqa-f32"})
    void bf16GgufGivesTheGoldenLogitsAndGreedyTokens(String fixture) {
        assertGoldenBf16(quantize(fixture, "bf16"), fixture);
    }

    /**
     * {@code quantize} reads NeMo checkpoints too: a .nemo tar with legacy names, one with tensor-parallel and
     * pipeline shards (merged on the way), and an extracted one in the zarr distributed layout; each written as BF16
     * gives the golden logits and greedy tokens.
     */
    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({"nemotron3-mha-legacy,model.nemo", "nemotron-tp2-bf16,model.tp2pp2.nemo", "nemotron-gqa-bf16-zarr,model.nemo.d"})
    void nemoSourcesQuantizeToTheGoldenLogits(String fixture, String source) {
        assertGoldenBf16(quantize(fixture, source, "bf16"), fixture);
    }

    private static void assertGoldenBf16(Path gguf, String fixture) {
        // BF16 fixtures hold exactly the BF16 numbers: the reference tolerance applies as it is; F32 ones were rounded
        boolean exact = fixture.contains("bf16");
        try (NemotronModel m = NemotronModel.load(gguf, LoadOptions.defaults().withThreads(2))) {
            assertTrue(m.checkpoint().layout().startsWith("GGUF v3"), m.checkpoint().layout());
            for (Fixtures.Prompt p : Fixtures.golden(fixture).prompts()) {
                float[][] got = m.logitsAll(p.ids());
                for (int t = 0; t < got.length; t++) {
                    if (exact) {
                        assertLogitsClose(p.logits()[t], got[t], 0, fixture + " gguf position " + t);
                    } else {
                        assertClose(p.logits()[t], got[t], 1e-2, fixture + " gguf (bf16-rounded) position " + t);
                    }
                }
                assertArrayEquals(p.greedy(), m.generateGreedy(p.ids(), p.greedy().length, id -> true).tokenIds(), fixture);
            }
        }
    }

    /**
     * Q8_0 moves logits by up to {@link #Q8_TOLERANCE} × max|logit| (asserted at every prompt position). Every step
     * of the reference's greedy continuation whose top-2 margin is clearly larger than that (twice the bound) must
     * pick the reference's token: checked with the reference's own continuation as input (teacher forcing), so that
     * each step is checked in the reference's context and one close call does not end the comparison; and free-running
     * generation up to its first unclear step.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "llama31-f32", "nemotron3-mha-legacy", "nemotron-gqa-f32"})
    void q8GgufStaysCloseAndKeepsTheGreedyTokensWhereTheMarginIsClear(String fixture) {
        assertCloseWithClearGreedyTokens(quantize(fixture, "q8_0"), fixture, "q8_0", Q8_TOLERANCE);
    }

    /** F16 (as llama.cpp's f16 files): the same checks, with F16's rounding as the bound. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "llama31-f32", "nemotron3-mha-legacy", "nemotron-gqa-f32"})
    void f16GgufStaysCloseAndKeepsTheGreedyTokensWhereTheMarginIsClear(String fixture) {
        Path gguf = quantize(fixture, "f16");
        try (Checkpoint ck = CheckpointLoader.open(gguf)) {
            assertEquals(DType.F16, ck.tensors().require("model.layers.0.mlp.down_proj.weight").dtype(), "matrices in F16");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertCloseWithClearGreedyTokens(gguf, fixture, "f16", F16_TOLERANCE);
    }

    private static void assertCloseWithClearGreedyTokens(Path gguf, String fixture, String type, double tolerance) {
        int steps = 0, checked = 0;
        try (NemotronModel m = NemotronModel.load(gguf, LoadOptions.defaults().withThreads(2))) {
            for (Fixtures.Prompt p : Fixtures.golden(fixture).prompts()) {
                float[][] got = m.logitsAll(p.ids());
                double scale = 1;
                for (int t = 0; t < got.length; t++) {
                    assertClose(p.logits()[t], got[t], tolerance, fixture + " " + type + " position " + t);
                    for (float v : p.logits()[t]) scale = Math.max(scale, Math.abs(v));
                }
                double clear = 2 * tolerance * scale;
                int n = p.greedy().length, prompt = p.ids().length;
                int[] forced = Arrays.copyOf(p.ids(), prompt + n - 1);
                System.arraycopy(p.greedy(), 0, forced, prompt, n - 1);
                float[][] all = m.logitsAll(forced);
                for (int i = 0; i < n; i++) {
                    steps++;
                    if (p.margins()[i] <= clear) continue;
                    checked++;
                    assertEquals(p.greedy()[i], dev.nemotron4j.engine.generate.Greedy.argmax(all[prompt - 1 + i]), fixture + " " + type + " teacher-forced step " + i);
                }
                int[] tokens = m.generateGreedy(p.ids(), n, id -> true).tokenIds();
                for (int i = 0; i < tokens.length && p.margins()[i] > clear; i++) {
                    assertEquals(p.greedy()[i], tokens[i], fixture + " " + type + " greedy step " + i);
                }
            }
        }
        System.out.printf("%s: %s greedy steps checked %d of %d%n", fixture, type, checked, steps);
        // random weights give many close calls; the check must still cover a good part of the continuation (Q8_0: 9–29
        // steps of 20–36, F16: 18–36), so that it cannot pass by comparing nothing
        assertTrue(checked * 5 >= steps * 2, fixture + ": only " + checked + " of " + steps + " greedy steps have a clear margin");
    }

    /**
     * Q8_0's logit error bound, relative to the largest |logit| of a prompt (see {@link #assertClose}): the weights'
     * rounding plus the int8 activations of the repacked kernels reached 1.3–1.7e-2 on the five fixtures.
     */
    private static final double Q8_TOLERANCE = 2e-2;
    /** F16's: its 11-bit significands against the reference's float64. */
    private static final double F16_TOLERANCE = 2e-3;

    /**
     * A model wide enough (hidden 512, FFN 1024) for the repacked Q4_0/Q8_0 copies: after {@code prepareWeights} the
     * mapped source pages are released and prefill reads the copies. Q8_0 prefill widens their rows to floats, so its
     * logits at every position must equal those of the GGUF-layout kernels (same float arithmetic); Q4_0 prefill
     * multiplies int8 activations in integer tiles, as decode does. Decode multiplies int8 activations (on both
     * sides for Q4_0, on the repacked side only for Q8_0); the int8 paths stay within the bound of the Q8_0 golden test;
     * exactness of the integer kernels themselves is checked matrix by matrix in the engine's QuantKernelsTest.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"q8_0", "q4_0"})
    void repackedWeightsGiveTheLogitsOfTheGgufLayoutKernels(String type) throws Exception {
        var config = new ModelConfig(Architecture.NEMOTRON, 512, 512, 1024, 2, 4, 2, 128, 4096, 1e-5,
                NormKind.LAYERNORM_1P, Activation.RELU2, 10000, 64, null, false, 2, List.of(3));
        Path hf = tmp.resolve("wide");
        RandomModel.write(hf, config, DType.BF16, 0.02, 7);
        Path gguf = quantize(hf, type, tmp.resolve("wide-" + type + ".gguf"));
        int[] ids = {5, 77, 300, 12, 9, 451, 3, 200};
        float[][] prefill = new float[2][];
        float[][][] decode = new float[2][3][];
        for (int variant = 0; variant < 2; variant++) {
            boolean repack = variant == 0;
            if (!repack) System.setProperty("n4j.noRepack", "true");
            try (NemotronModel m = NemotronModel.load(gguf, LoadOptions.defaults().withThreads(2));
                 var s = m.newSession()) {
                long repacked = m.prepareWeights((done, all) -> { });
                assertEquals(repack, repacked > 0, "bytes repacked: " + repacked);
                prefill[variant] = s.prefillAll(ids);
                for (int i = 0; i < 3; i++) decode[variant][i] = s.decode(ids[i]);
            } finally {
                System.clearProperty("n4j.noRepack");
            }
        }
        for (int t = 0; t < ids.length; t++) {
            float[] want = Arrays.copyOfRange(prefill[1], t * 512, (t + 1) * 512);
            String where = type + " prefill position " + t + ", repacked vs GGUF layout";
            if (type.equals("q4_0")) assertClose(want, Arrays.copyOfRange(prefill[0], t * 512, (t + 1) * 512), 2e-2, where);
            else assertLogitsClose(want, prefill[0], t * 512, where);
        }
        for (int i = 0; i < 3; i++) assertClose(decode[1][i], decode[0][i], 2e-2, type + " decode " + i);
    }

    static void assertClose(float[] want, float[] got, double rel, String where) {
        double scale = 1, worst = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
        assertTrue(worst <= rel * scale, where + ": max |diff| " + worst + " > " + rel + " × " + scale);
    }

    @Test
    void ggufToGgufAndToHuggingFaceRoundTripsKeepTheLogits() throws Exception {
        Path q8 = quantize("nemotron-gqa-f32", "q8_0");
        Path again = quantize(q8, "f32", tmp.resolve("again.gguf"));
        int[] ids = Fixtures.golden("nemotron-gqa-f32").prompts().getFirst().ids();
        JsonNode a = CliTest.run("logits", "--model", q8.toString(), "--ids", CliTest.csv(ids)).json();
        JsonNode b = CliTest.run("logits", "--model", again.toString(), "--ids", CliTest.csv(ids)).json();
        assertLogitsClose(CliTest.row(a.get("logits").get(0)), CliTest.row(b.get("logits").get(0)), 0, "q8_0 → f32 gguf");
        // the text side survives too: the tokenizer came from GGUF metadata both times
        JsonNode t1 = CliTest.run("tokenize", "--model", again.toString(), "--text", "Hello, world!").json();
        assertEquals("[639,943,654,945,963,284,277,577,1022]", t1.get("ids").toString());
        Path llamaQ8 = quantize("llama31-f32", "q8_0");
        Path llamaBack = quantize(llamaQ8, "bf16", tmp.resolve("llama.gguf"));
        int[] lids = Fixtures.golden("llama31-f32").prompts().getFirst().ids();
        JsonNode c = CliTest.run("logits", "--model", llamaQ8.toString(), "--ids", CliTest.csv(lids)).json();
        JsonNode d = CliTest.run("logits", "--model", llamaBack.toString(), "--ids", CliTest.csv(lids)).json();
        assertClose(CliTest.row(c.get("logits").get(0)), CliTest.row(d.get("logits").get(0)), 1e-2, "llama q8_0 → bf16 gguf");
    }

    /**
     * The export tells its progress as the data goes out, within each tensor too (a big model's embedding alone is a
     * third of the small preset), never backwards, and ends at the file's tensor bytes.
     */
    @Test
    void theExportTellsItsProgressWithinTensorsAndEndsAtTheTotal() throws Exception {
        List<long[]> calls = new java.util.ArrayList<>();
        Path out = tmp.resolve("progress.gguf");
        try (Checkpoint ck = CheckpointLoader.open(Fixtures.path("nemotron-gqa-f32/hf"))) {
            dev.nemotron4j.tools.convert.GgufExporter.export(ck, out, dev.nemotron4j.tools.convert.GgufExporter.Target.Q8_0,
                    (done, all) -> calls.add(new long[]{done, all}));
        }
        long total = calls.getFirst()[1], embedding;
        try (Checkpoint back = CheckpointLoader.open(out)) {
            assertEquals(back.tensors().totalBytes(), total, "the total is the file's tensor data");
            embedding = back.tensors().require("model.embed_tokens.weight").byteSize();
        }
        assertEquals(total, calls.getLast()[0]);
        long beforeTheEnd = calls.stream().filter(c -> c[0] < total).count();
        assertTrue(beforeTheEnd > 100, calls.size() + " calls: progress came per tensor only");
        for (int i = 1; i < calls.size(); i++) {
            assertTrue(calls.get(i)[0] >= calls.get(i - 1)[0], "progress went back at call " + i);
            assertEquals(total, calls.get(i)[1]);
        }
        // the embedding is the first tensor: progress is told before it is all written
        assertTrue(calls.stream().anyMatch(c -> c[0] > 0 && c[0] < embedding), "nothing told within the embedding");
    }

    @Test
    void tokenizersRebuiltFromGgufMetadataMatchTheReferences() throws Exception {
        try (Checkpoint ck = CheckpointLoader.open(quantize("nemotron-gqa-f32", "bf16"));
             Tokenizer fromGguf = ModelTokenizers.require(ck)) {
            JsonNode golden = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Fixtures.path("nemotron-test-1k.golden.json").toFile());
            for (JsonNode c : golden.get("cases")) {
                int[] want = new int[c.get("ids").size()];
                for (int i = 0; i < want.length; i++) want[i] = c.get("ids").get(i).asInt();
                assertArrayEquals(want, fromGguf.encode(c.get("text").asText()), "GGUF SentencePiece: " + c.get("text").asText());
                assertEquals(c.get("decoded").asText(), fromGguf.decode(want));
            }
        }
        Path llamaTok = llamaTokenizerFolder();
        Tokenizer bpe = Tokenizers.huggingFaceJson(Files.readAllBytes(llamaTok.resolve("tokenizer.json")), "tokenizer.json");
        // through a file: the metadata written as GGUF and read back (ids as the reader gives them, not as put in)
        Path tokFile = tmp.resolve("bpe-tokenizer.gguf");
        dev.nemotron4j.loader.gguf.GgufWriter.write(tokFile, GgufTokenizers.toMetadata(bpe), List.of());
        Map<String, Object> read;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            read = new java.util.HashMap<>(dev.nemotron4j.loader.gguf.GgufFile.open(tokFile, arena).metadata());
        }
        try (bpe; Tokenizer back = GgufTokenizers.fromMetadata(read, tokFile.toString())) {
            assertEquals(bpe.bosId(), back.bosId(), "BOS through GGUF metadata");
            assertEquals(bpe.eosId(), back.eosId(), "EOS through GGUF metadata");
            // a file's own EOS (Llama 3.1 Instruct GGUFs name <|eot_id|>) is the one used, not a guess by name
            int eot = bpe.id("<|eot_id|>").orElseThrow();
            read.put("tokenizer.ggml.eos_token_id", (long) eot);
            try (Tokenizer eotTok = GgufTokenizers.fromMetadata(read, tokFile.toString())) {
                assertEquals(java.util.OptionalInt.of(eot), eotTok.eosId());
                assertEquals(bpe.bosId(), eotTok.bosId());
            }
            JsonNode golden = new com.fasterxml.jackson.databind.ObjectMapper().readTree(llamaTok.resolve("llama31.golden.json").toFile());
            for (JsonNode c : golden.get("cases")) {
                int[] want = new int[c.get("ids").size()];
                for (int i = 0; i < want.length; i++) want[i] = c.get("ids").get(i).asInt();
                assertArrayEquals(want, back.encode(c.get("text").asText()), "GGUF gpt2 BPE: " + c.get("text").asText());
                assertEquals(c.get("text").asText(), back.decode(want));
            }
        }
    }

    /**
     * The Llama fixture ({@code llama31-f32/hf}, 1024 token rows) with a byte-level BPE tokenizer of its own size
     * beside it: Llama 3's {@code tokenizer.json} cut to its first 1000 tokens and the merges among them, five of its
     * special tokens as ids 1000–1004; rows 1005–1023 have no token. Made in {@code dir}.
     */
    static Path llamaWithBpe(Path dir) throws java.io.IOException {
        Path hf = Files.createDirectories(dir.resolve("llama-bpe"));
        try (var files = Files.list(Fixtures.path("llama31-f32").resolve("hf"))) {
            for (Path f : files.toList()) Files.copy(f, hf.resolve(f.getFileName()));
        }
        Path llamaTok = llamaTokenizerFolder().resolve("tokenizer.json");
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var t = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(llamaTok.toFile());
        var model = (com.fasterxml.jackson.databind.node.ObjectNode) t.get("model");
        int keep = 1000;
        var vocab = mapper.createObjectNode();
        model.get("vocab").properties().forEach(e -> {
            if (e.getValue().asInt() < keep) vocab.set(e.getKey(), e.getValue());
        });
        var merges = mapper.createArrayNode();
        for (JsonNode m : model.get("merges")) {
            String[] pair = m.isArray() ? new String[]{m.get(0).asText(), m.get(1).asText()} : m.asText().split(" ", 2);
            if (vocab.has(pair[0]) && vocab.has(pair[1]) && vocab.has(pair[0] + pair[1])) merges.add(m);
        }
        model.set("vocab", vocab);
        model.set("merges", merges);
        List<String> specials = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>");
        var added = mapper.createArrayNode();
        for (JsonNode a : t.get("added_tokens")) {
            int k = specials.indexOf(a.get("content").asText());
            if (k >= 0) added.add(((com.fasterxml.jackson.databind.node.ObjectNode) a.deepCopy()).put("id", keep + k));
        }
        t.set("added_tokens", added);
        for (JsonNode proc : t.path("post_processor").path("processors")) {
            JsonNode bos = proc.path("special_tokens").path("<|begin_of_text|>");
            if (bos.isObject()) ((com.fasterxml.jackson.databind.node.ObjectNode) bos).set("ids", mapper.createArrayNode().add(keep));
        }
        mapper.writeValue(hf.resolve("tokenizer.json").toFile(), t);
        return hf;
    }

    /**
     * A tokenizer with fewer tokens than the model has rows: the GGUF still lists one token per row (llama.cpp refuses
     * a shorter list), the rows past the tokenizer's last id as unused placeholders, and the tokenizer read back from
     * the file encodes as the folder's.
     */
    @Test
    void aGgufHasOneTokenPerRowAndTheTokenizerReadsBackTheSame() throws Exception {
        Path hf = llamaWithBpe(tmp);
        Path gguf = quantize(hf, "q8_0", tmp.resolve("llama-bpe.gguf"));
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Map<String, Object> meta = dev.nemotron4j.loader.gguf.GgufFile.open(gguf, arena).metadata();
            List<?> tokens = (List<?>) meta.get("tokenizer.ggml.tokens");
            assertEquals(1024, tokens.size(), "one token per row");
            assertEquals("<|eot_id|>", tokens.get(1004));
            assertEquals("[PAD1005]", tokens.get(1005));
        }
        try (Checkpoint folder = CheckpointLoader.open(hf); Checkpoint file = CheckpointLoader.open(gguf);
             Tokenizer want = ModelTokenizers.require(folder); Tokenizer got = ModelTokenizers.require(file)) {
            for (String text : List.of("Hello, world! The licensee shall not 12345 times.", "  two  spaces\nand a line", "Ünïcödé 🙂")) {
                assertArrayEquals(want.encode(text), got.encode(text), text);
            }
        }
        // more tokens than rows has no GGUF form
        try (Checkpoint folder = CheckpointLoader.open(hf); Tokenizer tok = ModelTokenizers.require(folder)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> GgufTokenizers.toMetadata(tok, 1000));
            assertTrue(e.getMessage().contains("1005 tokens and the model 1000 token rows"), e.getMessage());
        }
    }

    @Test
    void brokenGgufFilesAreReportedClearly() throws Exception {
        byte[] good = Files.readAllBytes(quantize("nemotron-gqa-f32", "q8_0"));
        Path cut = tmp.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(good, good.length - 1000));
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(cut));
        assertTrue(e.getMessage().contains("cut.gguf") && e.getMessage().contains("tensor '")
                && e.getMessage().contains("beyond"), e.getMessage());

        // an offset so large that offset + size overflows a long: still "beyond", with the tensor named
        int info = indexOf(good, "token_embd.weight".getBytes()) + "token_embd.weight".length();
        int nDims = ByteBuffer.wrap(good, info, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        byte[] far = good.clone();
        ByteBuffer.wrap(far, info + 8 + 8 * nDims, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE & ~1023L);
        Path farFile = tmp.resolve("far.gguf");
        Files.write(farFile, far);
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(farFile));
        assertTrue(e.getMessage().contains("far.gguf") && e.getMessage().contains("'token_embd.weight'")
                && e.getMessage().contains("beyond"), e.getMessage());

        // a dimension so large that the element count overflows a long
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge, info + 4 + 8 * (nDims - 1), 8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 61);
        Path hugeFile = tmp.resolve("huge.gguf");
        Files.write(hugeFile, huge);
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(hugeFile));
        assertTrue(e.getMessage().contains("huge.gguf") && e.getMessage().contains("'token_embd.weight'")
                && e.getMessage().contains("dimensions"), e.getMessage());

        Path header = tmp.resolve("header.gguf");
        Files.write(header, Arrays.copyOf(good, 200));
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(header));
        assertTrue(e.getMessage().contains("header.gguf") && e.getMessage().contains("truncated"), e.getMessage());

        Path notGguf = tmp.resolve("not.gguf");
        Files.writeString(notGguf, "definitely not a model file, but long enough to have a header");
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(notGguf));
        assertTrue(e.getMessage().contains("no GGUF magic"), e.getMessage());

        // an unknown tensor type: rewrite the first tensor's type field (Q8_0 = 8 → Q4_K = 12)
        byte[] typed = good.clone();
        int at = indexOf(typed, "token_embd.weight".getBytes()) + "token_embd.weight".length();
        int dims = ByteBuffer.wrap(typed, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        ByteBuffer.wrap(typed, at + 4 + 8 * dims, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(12);
        Path badType = tmp.resolve("type.gguf");
        Files.write(badType, typed);
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(badType));
        assertTrue(e.getMessage().contains("'token_embd.weight'") && e.getMessage().contains("Q4_K"), e.getMessage());

        // an unknown architecture
        byte[] arch = good.clone();
        int a = indexOf(arch, "nemotron".getBytes());
        System.arraycopy("mamba2xx".getBytes(), 0, arch, a, 8);
        Path badArch = tmp.resolve("arch.gguf");
        Files.write(badArch, arch);
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(badArch));
        assertTrue(e.getMessage().contains("'mamba2xx'"), e.getMessage());
    }

    /**
     * {@code convert} from a GGUF writes the tokenizer file its metadata describe (a SentencePiece model here), so the
     * folder tokenizes as the GGUF does and gives its logits; a conversion that fails half-way (here at that tokenizer,
     * after the weights were written) leaves no folder behind.
     */
    @Test
    void convertFromGgufWritesItsTokenizerAndAFailedConvertLeavesNothing() throws Exception {
        Path gguf = quantize("nemotron-gqa-f32", "bf16");
        Path hf = tmp.resolve("from-gguf");
        CliTest.Run r = CliTest.run("convert", "--model", gguf.toString(), "--out", hf.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(hf.resolve("tokenizer.model")) > 1000, "a SentencePiece model was written");
        JsonNode t = CliTest.run("tokenize", "--model", hf.toString(), "--text", "Hello, world!").json();
        assertEquals("[639,943,654,945,963,284,277,577,1022]", t.get("ids").toString());
        int[] ids = Fixtures.golden("nemotron-gqa-f32").prompts().getFirst().ids();
        JsonNode a = CliTest.run("logits", "--model", gguf.toString(), "--ids", CliTest.csv(ids)).json();
        JsonNode b = CliTest.run("logits", "--model", hf.toString(), "--ids", CliTest.csv(ids)).json();
        assertClose(CliTest.row(a.get("logits").get(0)), CliTest.row(b.get("logits").get(0)), 1e-5, "GGUF → HF folder");

        Path bogus = withMetadata(gguf, "bogus-tokenizer.gguf", Map.of("tokenizer.ggml.model", "bogus"));
        Path failed = tmp.resolve("failed");
        r = CliTest.run("convert", "--model", bogus.toString(), "--out", failed.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("'bogus'"), r.err());
        assertFalse(Files.exists(failed), "the half-written folder is gone");
    }

    /**
     * A rope scaling this engine does not implement (yarn, say) is refused by name rather than read as no scaling,
     * which would run and go wrong past the original context; linear scaling loads.
     */
    @Test
    void unsupportedRopeScalingIsRefusedByName() throws Exception {
        Path src = quantize("nemotron-gqa-f32", "f32");
        Path yarn = withMetadata(src, "yarn.gguf", Map.of("nemotron.rope.scaling.type", "yarn", "nemotron.rope.scaling.factor", 4.0f));
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(yarn).close());
        assertTrue(e.getMessage().contains("yarn.gguf") && e.getMessage().contains("'yarn'"), e.getMessage());
        Path zero = withMetadata(src, "zero.gguf", Map.of("nemotron.rope.scaling.type", "linear", "nemotron.rope.scaling.factor", 0.0f));
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(zero).close());
        assertTrue(e.getMessage().contains("zero.gguf") && e.getMessage().contains("factor"), e.getMessage());
        Path linear = withMetadata(src, "linear.gguf", Map.of("nemotron.rope.scaling.type", "linear", "nemotron.rope.scaling.factor", 2.0f));
        try (Checkpoint ck = CheckpointLoader.open(linear)) {
            assertTrue(ck.config().ropeScaling() != null, "linear scaling read");
        }
    }

    /** A copy of a GGUF with metadata entries added or replaced (the tensors' bytes as they are). */
    private Path withMetadata(Path src, String name, Map<String, Object> extra) throws Exception {
        Path out = tmp.resolve(name);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            var f = dev.nemotron4j.loader.gguf.GgufFile.open(src, arena);
            Map<String, Object> meta = new java.util.LinkedHashMap<>(f.metadata());
            meta.putAll(extra);
            List<dev.nemotron4j.loader.gguf.GgufWriter.Entry> entries = new java.util.ArrayList<>();
            f.tensors().forEach((n, t) -> entries.add(new dev.nemotron4j.loader.gguf.GgufWriter.Entry(n, f.ggmlTypes().get(n),
                    t.shape(), t.contiguousData().byteSize(), o -> o.write(t.contiguousData().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)))));
            dev.nemotron4j.loader.gguf.GgufWriter.write(out, meta, entries);
        }
        return out;
    }

    /**
     * Metadata arrays of arrays nested without end once overflowed the reader's stack; past a few levels (GGUF writers
     * nest one at most) the file is refused by name. The entry is spliced into a good file's header, 160 bytes, a
     * multiple of the alignment, so that the data section keeps its place.
     */
    @Test
    void deeplyNestedMetadataArraysAreRefused() throws Exception {
        byte[] good = Files.readAllBytes(quantize("nemotron-gqa-f32", "f32"));
        ByteBuffer kv = ByteBuffer.allocate(160).order(ByteOrder.LITTLE_ENDIAN);
        byte[] key = "evil.nested.0000".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        kv.putLong(key.length).put(key).putInt(9);              // key, then an array...
        for (int d = 0; d < 10; d++) kv.putInt(9).putLong(1);   // ... of one array, ten levels down ...
        kv.putInt(4).putLong(0);                                // ... of no integers
        assertEquals(0, kv.remaining());
        byte[] nested = new byte[good.length + 160];
        System.arraycopy(good, 0, nested, 0, 24);
        System.arraycopy(kv.array(), 0, nested, 24, 160);
        System.arraycopy(good, 24, nested, 184, good.length - 24);
        ByteBuffer header = ByteBuffer.wrap(nested).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(16, header.getLong(16) + 1);             // one more metadata entry
        Path file = tmp.resolve("nested.gguf");
        Files.write(file, nested);
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(file).close());
        assertTrue(e.getMessage().contains("nested.gguf") && e.getMessage().contains("evil.nested.0000")
                && e.getMessage().contains("nests arrays"), e.getMessage());
    }

    /** A GGUF is known by its magic whatever its name (ollama keeps them as blobs named by hash). */
    @Test
    void aGgufIsRecognisedByItsMagicWithoutTheExtension() throws Exception {
        Path blob = tmp.resolve("sha256-0123abcd");
        Files.copy(quantize("nemotron-gqa-f32", "q8_0"), blob);
        CliTest.Run r = CliTest.run("inspect", "--model", blob.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("GGUF"), r.out());
    }

    /**
     * q, k and v run as one product: a file with another type for one of them (as llama.cpp's per-tensor types can
     * write) is refused with the file, the tensors and their types named. Made by retyping {@code blk.0.attn_v} of an
     * F32 file as F16, which reads half of its bytes and stays inside the file.
     */
    @Test
    void projectionsOfMixedTypesThatRunAsOneAreRefusedByName() throws Exception {
        byte[] f32 = Files.readAllBytes(quantize("nemotron-gqa-f32", "f32"));
        int at = indexOf(f32, "blk.0.attn_v.weight".getBytes()) + "blk.0.attn_v.weight".length();
        int dims = ByteBuffer.wrap(f32, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertEquals(0, ByteBuffer.wrap(f32, at + 4 + 8 * dims, 4).order(ByteOrder.LITTLE_ENDIAN).getInt(), "F32 before");
        ByteBuffer.wrap(f32, at + 4 + 8 * dims, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(1);
        Path mixed = tmp.resolve("mixed.gguf");
        Files.write(mixed, f32);
        CliTest.Run r = CliTest.run("logits", "--model", mixed.toString(), "--ids", "1,2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("mixed.gguf") && r.err().contains("q|k|v") && r.err().contains("v_proj.weight is F16")
                && r.err().contains("one tensor type"), r.err());
    }

    /** convert writes safetensors, which cannot hold block-quantized weights: refused before anything is written. */
    @Test
    void convertRefusesAQuantizedSourceAndWritesNothing() throws Exception {
        Path out = tmp.resolve("from-q8");
        CliTest.Run r = CliTest.run("convert", "--model", quantize("nemotron-gqa-f32", "q8_0").toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("Q8_0") && r.err().contains("safetensors"), r.err());
        assertFalse(Files.exists(out), "nothing written");
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
