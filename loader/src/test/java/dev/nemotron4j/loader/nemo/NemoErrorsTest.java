package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.loader.torch.PickleBuilder;
import dev.nemotron4j.loader.torch.PickleSecurityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile, truncated and inconsistent NeMo checkpoints fail with a message that names what is wrong. */
class NemoErrorsTest {
    @TempDir
    Path tmp;

    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("engine/src/test/resources/fixtures");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures not found");
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "\"" + e.getMessage() + "\" should mention \"" + p + "\"");
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void tarMembersThatEscapeTheArchiveAreRefused() throws IOException {
        Path dotdot = write("dotdot.nemo", new TarBuilder().file("./model_config.yaml", "num_layers: 1")
                .file("../../etc/evil.model", "x").build());
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(dotdot)), "'../../etc/evil.model'", "..");
        Path absolute = write("abs.nemo", new TarBuilder().file("/tmp/evil.model", "x").build());
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(absolute)), "absolute path");
        Path viaPax = write("pax.nemo", new TarBuilder().file("a/" + "b".repeat(120) + "/../../../evil", "x").build());
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(viaPax)), "escapes the archive");
    }

    @Test
    void paxLongNamesAreRead() throws IOException {
        String longName = "dir/" + "n".repeat(150) + ".txt";
        byte[] tar = new TarBuilder().file("./short.txt", "a").file(longName, "hello").build();
        try (Arena arena = Arena.ofConfined()) {
            TarArchive t = TarArchive.read(java.lang.foreign.MemorySegment.ofArray(tar), "t.tar");
            assertEquals(5, t.members().get(longName).byteSize());
            assertEquals(1, t.members().get("short.txt").byteSize());
        }
    }

    @Test
    void truncatedAndCorruptArchivesAreReported() throws IOException {
        byte[] nemo = Files.readAllBytes(fixtures().resolve("nemotron-gqa-f32/model.nemo"));
        Path cut = write("cut.nemo", Arrays.copyOf(nemo, nemo.length / 2));
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(cut)), "cut.nemo", "truncated");
        byte[] bad = nemo.clone();
        bad[10] ^= 0x55; // inside the first header's name: the checksum no longer matches
        Path corrupt = write("corrupt.nemo", bad);
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(corrupt)), "corrupt.nemo", "checksum");
    }

    @Test
    void aWeightsPickleThatCallsOsSystemIsRefusedByName() throws IOException {
        Path marker = tmp.resolve("pwned");
        byte[] evil = new PickleBuilder().op('}', '(').str("model.embedding.word_embeddings.weight")
                .global("os", "system").str("touch " + marker).op(0x85, 'R', 'u').stop();
        Path src = fixtures().resolve("nemotron-gqa-f32/model.nemo");
        byte[] yaml, tok;
        try (Arena arena = Arena.ofConfined()) {
            NemoContainer c = NemoContainer.open(src, arena);
            yaml = c.file("model_config.yaml").orElseThrow().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            tok = c.file("0000000000000006cc623af8783354e7_nemotron-test-1k.model").orElseThrow()
                    .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
        Path nemo = write("evil.nemo", new TarBuilder().file("./model_config.yaml", yaml)
                .file("./0000000000000006cc623af8783354e7_nemotron-test-1k.model", tok)
                .file("./model_weights.ckpt", PickleBuilder.torchZip(evil, null)).build());
        assertMentions(assertThrows(PickleSecurityException.class, () -> CheckpointLoader.open(nemo)), "os.system");
        assertFalse(Files.exists(marker));
    }

    private Path copyOfZarrFixture() throws IOException {
        Path src = fixtures().resolve("nemotron-gqa-bf16-zarr/model.nemo.d");
        Path dst = tmp.resolve("zarr.nemo.d");
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path d = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(d);
                else Files.copy(p, d);
            }
        }
        return dst;
    }

    @Test
    void zarrChunksOfTheWrongSizeOrMissingAreNamed() throws IOException {
        Path dir = copyOfZarrFixture();
        Path chunk = dir.resolve("model_weights/model.decoder.layers.mlp.linear_fc2.weight/1.0.1");
        byte[] b = Files.readAllBytes(chunk);
        Files.write(chunk, Arrays.copyOf(b, b.length - 2));
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(dir)),
                "linear_fc2.weight/1.0.1", "12286 bytes", "expected 12288");
        Files.delete(chunk);
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(dir)),
                "linear_fc2.weight/1.0.1", "missing");
    }

    @Test
    void aMissingTensorOrTokenizerIsNamed() throws IOException {
        Path dir = copyOfZarrFixture();
        Path t = dir.resolve("model_weights/model.decoder.final_layernorm.bias");
        try (Stream<Path> s = Files.list(t)) {
            for (Path p : s.toList()) Files.delete(p);
        }
        Files.delete(t);
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(dir)),
                "missing tensor 'model.decoder.final_layernorm.bias'");
        Files.delete(dir.resolve("00000000000000076a99b4b1f77dd0fc_nemotron-test-1k.model"));
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(dir)),
                "tokenizer artifact", "nemotron-test-1k.model");
    }

    @Test
    void unsupportedActivationIsRefusedByName() throws IOException {
        Path dir = copyOfZarrFixture();
        Path yaml = dir.resolve("model_config.yaml");
        Files.writeString(yaml, Files.readString(yaml).replace("activation: squared-relu", "activation: geglu"));
        assertMentions(assertThrows(CheckpointException.class, () -> CheckpointLoader.open(dir)), "activation 'geglu'");
    }

    @Test
    void gzipCompressedLegacyNemoLoadsTheSameTensors() throws IOException {
        Path src = fixtures().resolve("nemotron3-mha-legacy/model.nemo");
        Path gz = tmp.resolve("legacy.nemo");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            Files.copy(src, out);
        }
        try (Checkpoint a = CheckpointLoader.open(src); Checkpoint b = CheckpointLoader.open(gz)) {
            assertTrue(b.layout().startsWith("gzip"), b.layout());
            assertEquals(a.tensors().all().keySet(), b.tensors().all().keySet());
            for (String name : a.tensors().all().keySet()) {
                assertArrayEquals(a.tensors().require(name).toFloatArray(), b.tensors().require(name).toFloatArray(), name);
            }
        }
    }
}
