package dev.nemotron4j.loader.safetensors;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;
import dev.nemotron4j.loader.tensor.TensorSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** A file image with a hand-written header, {@code dataBytes} of data (value i at byte i). */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < dataBytes; i++) b.put((byte) i);
        Path p = dir.resolve("m.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private CheckpointException failsToOpen(Path p) {
        try (Arena arena = Arena.ofConfined()) {
            return assertThrows(CheckpointException.class, () -> SafetensorsFile.open(p, arena));
        }
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message \"" + e.getMessage() + "\" should mention \"" + part + "\"");
        }
    }

    @Test
    void readsTensorsInPlaceWithTheirShapesAndValues() throws IOException {
        Path p = dir.resolve("ok.safetensors");
        float[] values = {1.5f, -2f, 3.25f, 0f, 7f, -0.5f};
        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3FC0).putShort((short) 0xC000);
        ByteBuffer f32 = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) f32.putFloat(v);
        SafetensorsWriter.write(p, List.of(
                new SafetensorsWriter.Entry("w", DType.F32, new long[]{2, 3}, out -> out.write(f32.array())),
                new SafetensorsWriter.Entry("b", DType.BF16, new long[]{2}, out -> out.write(bf16.array()))),
                Map.of("format", "pt"));
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, arena);
            assertEquals(Map.of("format", "pt"), f.metadata());
            Tensor w = f.tensors().get("w");
            assertArrayEquals(new long[]{2, 3}, w.shape());
            assertArrayEquals(values, w.toFloatArray());
            assertArrayEquals(new float[]{1.5f, -2f}, f.tensors().get("b").toFloatArray());
        }
    }

    @Test
    void truncatedFileIsReported() throws IOException {
        Path p = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16);
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length - 5));
        assertMentions(failsToOpen(p), "m.safetensors", "'w'", "truncated");
    }

    @Test
    void shorterThanTheLengthFieldIsReported() throws IOException {
        Path p = dir.resolve("m.safetensors");
        Files.write(p, new byte[]{1, 2, 3});
        assertMentions(failsToOpen(p), "m.safetensors", "truncated");
    }

    @Test
    void headerLengthBeyondTheFileIsReported() throws IOException {
        Path p = file("{}", 0);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 5000);
        Files.write(p, b.array());
        assertMentions(failsToOpen(p), "header length 5000", "beyond the end");
    }

    @Test
    void absurdHeaderLengthIsReported() throws IOException {
        Path p = file("{}", 0);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, -1L);
        Files.write(p, b.array());
        assertMentions(failsToOpen(p), "out of range");
    }

    @Test
    void offsetsOutsideTheDataAreReported() {
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,400]}}",
                16))), "'v'", "outside the data section");
    }

    /** Offsets past 64 bits (JSON has no limit) once wrapped to small numbers and were read from the wrong bytes. */
    @Test
    void offsetsBeyondSixtyFourBitsAreReported() {
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551616,18446744073709551624]}}",
                8))), "'w'", "data_offsets", "64 bits");
    }

    /** A shape whose byte count overflows a long (not only its element count) is reported, not wrapped to 0. */
    @Test
    void shapeWhoseBytesOverflowIsReported() {
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", 0))),
                "'w'", "overflows");
    }

    @Test
    void overlappingTensorsAreReported() {
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12))), "overlap");
    }

    @Test
    void byteCountThatDisagreesWithShapeAndDtypeIsReported() {
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file(
                "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3,3],\"data_offsets\":[0,16]}}", 16))),
                "'w'", "16 bytes", "needs 18");
    }

    @Test
    void unknownDtypeIsReportedByName() {
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file(
                "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4))), "'w'", "Q4_K");
    }

    @Test
    void headerThatIsNotJsonIsReported() {
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file("{\"w\": [1, 2", 0))), "not valid JSON");
        assertMentions(failsToOpen(assertDoesNotThrowIo(() -> file("[1, 2, 3]", 0))), "not a JSON object");
    }

    @Test
    void duplicateTensorNamesAreRefused() {
        failsToOpen(assertDoesNotThrowIo(() -> file(
                "{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 4)));
    }

    @Test
    void shardedIndexWithAMissingShardOrTensorIsReported() throws IOException {
        Path model = dir.resolve("sharded");
        Files.createDirectories(model);
        SafetensorsWriter.write(model.resolve("a.safetensors"), List.of(
                new SafetensorsWriter.Entry("x", DType.U8, new long[]{2}, out -> out.write(new byte[]{1, 2}))), Map.of());
        Files.writeString(model.resolve(SafetensorsCheckpoint.INDEX_FILE),
                "{\"weight_map\":{\"x\":\"a.safetensors\",\"y\":\"a.safetensors\"}}");
        try (Arena arena = Arena.ofConfined()) {
            assertMentions(assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model, arena)),
                    "a.safetensors", "missing tensor 'y'");
        }
        Files.writeString(model.resolve(SafetensorsCheckpoint.INDEX_FILE),
                "{\"weight_map\":{\"x\":\"a.safetensors\",\"z\":\"b.safetensors\"}}");
        try (Arena arena = Arena.ofConfined()) {
            assertMentions(assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model, arena)),
                    "'b.safetensors' is missing");
        }
        Files.writeString(model.resolve(SafetensorsCheckpoint.INDEX_FILE),
                "{\"weight_map\":{\"x\":\"../a.safetensors\"}}");
        try (Arena arena = Arena.ofConfined()) {
            assertMentions(assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.open(model, arena)),
                    "outside the model folder");
        }
        Files.writeString(model.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\":{\"x\":\"a.safetensors\"}}");
        try (Arena arena = Arena.ofConfined()) {
            TensorSet set = SafetensorsCheckpoint.open(model, arena);
            assertEquals(1, set.size());
            assertMentions(assertThrows(CheckpointException.class, () -> set.require("nope")), "missing tensor 'nope'");
            assertMentions(assertThrows(CheckpointException.class, () -> set.require("x", 3)), "shape [2]", "expected [3]");
        }
    }

    private interface IoSupplier {
        Path get() throws IOException;
    }

    private static Path assertDoesNotThrowIo(IoSupplier s) {
        try {
            return s.get();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
