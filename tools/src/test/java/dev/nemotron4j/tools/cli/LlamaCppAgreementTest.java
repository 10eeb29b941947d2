package dev.nemotron4j.tools.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.engine.ModelTokenizers;
import dev.nemotron4j.engine.testing.Fixtures;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * llama.cpp itself reads the GGUF files {@code quantize} writes as this project means them: its logits (through
 * node-llama-cpp's prebuilt CPU library, {@code src/test/llamacpp/logits.mjs}) at every position of a golden prompt
 * match the float64 reference for F32 exports, and match this engine's on the same file for the other types;
 * and it tokenizes text as this engine does with the tokenizer the file carries. A wrong convention (Nemotron's
 * folded +1, Llama's q/k permutation, llama3 rotary factors, a quantized layout, the vocabulary) would load without
 * complaint and give other numbers.
 *
 * <p>Needs {@code node} (20 or newer) and node-llama-cpp 3.22.1 installed in the folder that {@code N4J_LLAMA_CPP}
 * names (its {@code node_modules}): {@code .ci/run} installs both; elsewhere,
 * {@code bench/sitting/setup-llama-cpp.sh DIR}. Skipped, saying so, without them.
 */
class LlamaCppAgreementTest {
    private Path llamaCpp;

    @TempDir
    Path tmp;

    /** Each test is reported as skipped, with the reason, where llama.cpp is not installed. */
    @BeforeEach
    void findLlamaCpp() {
        String dir = System.getenv("N4J_LLAMA_CPP");
        assumeTrue(dir != null && !dir.isBlank(), "N4J_LLAMA_CPP is not set: llama.cpp agreement not checked");
        llamaCpp = Path.of(dir).toAbsolutePath();
        assumeTrue(Files.isDirectory(llamaCpp.resolve("node_modules/node-llama-cpp")),
                "no node-llama-cpp under " + llamaCpp + ": llama.cpp agreement not checked");
    }

    /**
     * F32 exports against the float64 reference, with the fixtures' own tolerance (1e-3 × max(1, max |golden|) per
     * position; llama.cpp keeps its KV cache in F16, measured 1.2e-3 at most against logits of about 6–7): from
     * Hugging Face folders and from every NeMo layout (Megatron-core and legacy names, multi-head attention, a zarr
     * distributed checkpoint of BF16 numbers, tensor-parallel shards).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"nemotron-gqa-f32, hf", "llama31-f32, hf", "nemotron-gqa-f32, model.nemo", "nemotron3-mha-legacy, model.nemo",
            "nemotron-gqa-bf16-zarr, model.nemo.d", "nemotron-tp2-bf16, model.nemo"})
    void llamaCppReadsAnF32ExportAsTheReferenceComputesIt(String fixture, String source) throws Exception {
        Path gguf = quantize(Fixtures.path(fixture).resolve(source), fixture + "-" + source, "f32");
        Fixtures.Prompt prompt = Fixtures.golden(fixture).prompts().getFirst();
        JsonNode got = llamaCpp(gguf, prompt.ids(), List.of());
        for (int t = 0; t < prompt.ids().length; t++) {
            float[] want = prompt.logits()[t];
            assertClose(want, floats(got.get("logits").get(t)), 1e-3, fixture + " f32, position " + t + ", llama.cpp vs reference");
        }
    }

    /**
     * The other exports: llama.cpp's logits against this engine's on the very same file, as a share of the largest
     * logit. Q8_0 and Q4_0: both engines round activations to int8 for some products (in different places), so the
     * bound is the Q8_0 golden test's, 2e-2 (measured 0.9–1.5e-2). BF16: llama.cpp rounds the activations to BF16 for
     * its BF16 products, 1e-2 (measured 3.6e-3). F16: the F16 golden test's 2e-3 (measured 5.7e-4).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"nemotron-gqa-f32, q8_0, 2e-2", "nemotron-gqa-f32, q4_0, 2e-2", "llama31-f32, q8_0, 2e-2",
            "llama31-f32, q4_0, 2e-2", "nemotron-gqa-f32, bf16, 1e-2", "llama31-f32, bf16, 1e-2",
            "nemotron-gqa-f32, f16, 2e-3", "llama31-f32, f16, 2e-3"})
    void llamaCppAndThisEngineAgreeOnTheSameExport(String fixture, String type, double tolerance) throws Exception {
        Path gguf = quantize(fixture, type);
        int[] ids = Fixtures.golden(fixture).prompts().getFirst().ids();
        JsonNode got = llamaCpp(gguf, ids, List.of());
        float[] ours = GgufTest.logits(gguf, ids);
        int vocab = ours.length / ids.length;
        for (int t = 0; t < ids.length; t++) {
            float[] want = Arrays.copyOfRange(ours, t * vocab, (t + 1) * vocab);
            assertClose(want, floats(got.get("logits").get(t)), tolerance, fixture + " " + type + ", position " + t + ", llama.cpp vs ours");
        }
    }

    /**
     * The tokenizer an export carries, SentencePiece (the Nemotron fixture's) or byte-level BPE (Llama 3's, cut to
     * the Llama fixture's rows, {@link GgufTest#llamaWithBpe}): llama.cpp's ids for a text are this engine's.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"nemotron-gqa-f32", "llama-bpe"})
    void llamaCppTokenizesAsThisEngineWithTheExportedVocabulary(String fixture) throws Exception {
        Path gguf = fixture.equals("llama-bpe") ? quantize(GgufTest.llamaWithBpe(tmp), "llama-bpe", "q8_0") : quantize(fixture, "q8_0");
        List<String> texts = List.of("Hello, world!", "The licensee shall not 12345 times.", "  two  spaces\nand a line",
                "Ünïcödé and émojis 🙂", "", "it's 3.14159 -- don't   stop\n\n\tok?");
        JsonNode got = llamaCpp(gguf, new int[]{1}, texts);
        try (Checkpoint ck = CheckpointLoader.open(gguf); Tokenizer t = ModelTokenizers.require(ck)) {   // the export carries one
            for (int i = 0; i < texts.size(); i++) {
                int[] want = t.encode(texts.get(i));
                JsonNode ids = got.get("tokens").get(i);
                int[] theirs = new int[ids.size()];
                for (int j = 0; j < theirs.length; j++) theirs[j] = ids.get(j).asInt();
                assertArrayEquals(want, theirs, "llama.cpp's tokens of " + texts.get(i));
            }
        }
    }

    private Path quantize(String fixture, String type) {
        return quantize(Fixtures.path(fixture).resolve("hf"), fixture, type);
    }

    private Path quantize(Path model, String name, String type) {
        return GgufTest.quantize(model, type, tmp.resolve(name + "-" + type + ".gguf"));
    }

    /** Runs logits.mjs on {@code gguf}: its output object ({@code logits} per position, {@code tokens} per text). */
    private JsonNode llamaCpp(Path gguf, int[] ids, List<String> texts) throws IOException, InterruptedException {
        // node resolves node-llama-cpp from the script's own folder: run a copy beside a link to the installation
        Path dir = Files.createDirectories(tmp.resolve("llamacpp"));
        if (!Files.exists(dir.resolve("node_modules"))) Files.createSymbolicLink(dir.resolve("node_modules"), llamaCpp.resolve("node_modules"));
        Files.copy(Path.of("src/test/llamacpp/logits.mjs"), dir.resolve("logits.mjs"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path request = dir.resolve("request.json");
        new ObjectMapper().writeValue(request.toFile(), Map.of("model", gguf.toString(), "ids", ids, "texts", texts));
        Path out = dir.resolve("out.json"), err = dir.resolve("err.txt");
        Process p = new ProcessBuilder("node", dir.resolve("logits.mjs").toString(), request.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("node-llama-cpp did not finish in 120 s on " + gguf);
        }
        assertEquals(0, p.exitValue(), "node-llama-cpp failed on " + gguf + ": " + Files.readString(err, StandardCharsets.UTF_8));
        return new ObjectMapper().readTree(out.toFile());
    }

    private static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
        return f;
    }

    /** Every logit within {@code rel} × max(1, max |want|) of {@code want} ({@link GgufTest#assertClose}). */
    private static void assertClose(float[] want, float[] got, double rel, String where) {
        assertEquals(want.length, got.length, where + ": vocabulary size");
        GgufTest.assertClose(want, got, rel, where);
    }
}
