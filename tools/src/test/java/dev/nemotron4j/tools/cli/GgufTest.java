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
        Path out = tmp.resolve(fixture + "-" + type + ".gguf");
        CliTest.Run r = CliTest.run("quantize", "--model", Fixtures.path(fixture + "/hf").toString(), "--type", type, "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "llama31-f32", "nemotron3-mha-legacy", "nemotron-gqa-f32"})
    void bf16GgufGivesTheGoldenLogitsAndGreedyTokens(String fixture) {
        Path gguf = quantize(fixture, "bf16");
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

    @ParameterizedTest(name = "{0}")
    @CsvSource({"nemotron-gqa-bf16-zarr", "nemotron-tp2-bf16", "llama31-f32", "nemotron3-mha-legacy", "nemotron-gqa-f32"})
    void q8GgufStaysCloseAndKeepsTheGreedyTokensWhereTheMarginIsClear(String fixture) {
        Path gguf = quantize(fixture, "q8_0");
        try (NemotronModel m = NemotronModel.load(gguf, LoadOptions.defaults().withThreads(2))) {
            for (Fixtures.Prompt p : Fixtures.golden(fixture).prompts()) {
                float[][] got = m.logitsAll(p.ids());
                double scale = 1;
                for (int t = 0; t < got.length; t++) {
                    assertClose(p.logits()[t], got[t], 3e-2, fixture + " q8_0 position " + t);
                    for (float v : p.logits()[t]) scale = Math.max(scale, Math.abs(v));
                }
                // Q8_0 moves logits by up to ~3e-2 × max|logit|: steps with a smaller top-2 margin may flip
                int[] tokens = m.generateGreedy(p.ids(), p.greedy().length, id -> true).tokenIds();
                for (int i = 0; i < tokens.length && p.margins()[i] > 2 * 3e-2 * scale; i++) {
                    assertEquals(p.greedy()[i], tokens[i], fixture + " q8_0 greedy step " + i);
                }
            }
        }
    }

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
        Path gguf = tmp.resolve("wide-" + type + ".gguf");
        CliTest.Run r = CliTest.run("quantize", "--model", hf.toString(), "--type", type, "--out", gguf.toString());
        assertEquals(0, r.code(), r.err());
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
        Path again = tmp.resolve("again.gguf");
        assertEquals(0, CliTest.run("quantize", "--model", q8.toString(), "--type", "f32", "--out", again.toString()).code());
        int[] ids = Fixtures.golden("nemotron-gqa-f32").prompts().getFirst().ids();
        JsonNode a = CliTest.run("logits", "--model", q8.toString(), "--ids", CliTest.csv(ids)).json();
        JsonNode b = CliTest.run("logits", "--model", again.toString(), "--ids", CliTest.csv(ids)).json();
        assertLogitsClose(CliTest.row(a.get("logits").get(0)), CliTest.row(b.get("logits").get(0)), 0, "q8_0 → f32 gguf");
        // the text side survives too: the tokenizer came from GGUF metadata both times
        JsonNode t1 = CliTest.run("tokenize", "--model", again.toString(), "--text", "Hello, world!").json();
        assertEquals("[639,943,654,945,963,284,277,577,1022]", t1.get("ids").toString());
        Path llamaQ8 = quantize("llama31-f32", "q8_0");
        Path llamaBack = tmp.resolve("llama.gguf");
        assertEquals(0, CliTest.run("quantize", "--model", llamaQ8.toString(), "--type", "bf16", "--out", llamaBack.toString()).code());
        int[] lids = Fixtures.golden("llama31-f32").prompts().getFirst().ids();
        JsonNode c = CliTest.run("logits", "--model", llamaQ8.toString(), "--ids", CliTest.csv(lids)).json();
        JsonNode d = CliTest.run("logits", "--model", llamaBack.toString(), "--ids", CliTest.csv(lids)).json();
        assertClose(CliTest.row(c.get("logits").get(0)), CliTest.row(d.get("logits").get(0)), 1e-2, "llama q8_0 → bf16 gguf");
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
        Path llamaTok = Fixtures.root().getParent().getParent().getParent().getParent().getParent()
                .resolve("tokenizer/src/test/resources/llama31");
        try (Tokenizer bpe = Tokenizers.huggingFaceJson(Files.readAllBytes(llamaTok.resolve("tokenizer.json")), "tokenizer.json");
             Tokenizer back = GgufTokenizers.fromMetadata(GgufTokenizers.toMetadata(bpe), "metadata")) {
            JsonNode golden = new com.fasterxml.jackson.databind.ObjectMapper().readTree(llamaTok.resolve("llama31.golden.json").toFile());
            for (JsonNode c : golden.get("cases")) {
                int[] want = new int[c.get("ids").size()];
                for (int i = 0; i < want.length; i++) want[i] = c.get("ids").get(i).asInt();
                assertArrayEquals(want, back.encode(c.get("text").asText()), "GGUF gpt2 BPE: " + c.get("text").asText());
                assertEquals(c.get("text").asText(), back.decode(want));
            }
        }
    }

    @Test
    void brokenGgufFilesAreReportedClearly() throws Exception {
        byte[] good = Files.readAllBytes(quantize("nemotron-gqa-f32", "q8_0"));
        Path cut = tmp.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(good, good.length - 1000));
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(cut));
        assertTrue(e.getMessage().contains("cut.gguf") && e.getMessage().contains("beyond"), e.getMessage());

        Path header = tmp.resolve("header.gguf");
        Files.write(header, Arrays.copyOf(good, 200));
        e = assertThrows(CheckpointException.class, () -> CheckpointLoader.open(header));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

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
