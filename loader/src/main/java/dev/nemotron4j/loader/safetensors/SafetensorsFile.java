package dev.nemotron4j.loader.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.io.MappedFiles;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped: an 8-byte little-endian header length, a JSON header,
 * then the data section. Every tensor is a slice of the mapping; nothing is copied. The header is
 * validated completely before any tensor is handed out.
 */
public final class SafetensorsFile {
    /** The reference implementation's limit; a longer header is treated as corruption. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path path;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps {@code path} into {@code arena} (which owns the mapping's lifetime) and validates it. */
    public static SafetensorsFile open(Path path, Arena arena) {
        return parse(path, MappedFiles.map(path, arena));
    }

    /** Validates and slices an already mapped (or in-memory) safetensors image. */
    public static SafetensorsFile parse(Path path, MemorySegment file) {
        long fileSize = file.byteSize();
        if (fileSize < 8) {
            throw new CheckpointException(path + ": not a safetensors file: " + fileSize
                    + " bytes, shorter than the 8-byte header length (truncated?)");
        }
        long headerLen = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
            throw new CheckpointException(path + ": safetensors header length " + Long.toUnsignedString(headerLen)
                    + " is out of range (2.." + MAX_HEADER_BYTES + "); the file is corrupt or not safetensors");
        }
        if (8 + headerLen > fileSize) {
            throw new CheckpointException(path + ": safetensors header length " + headerLen
                    + " reaches beyond the end of the file (" + fileSize + " bytes): truncated");
        }
        String headerText = decodeUtf8(path, file.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE));
        if (!headerText.stripLeading().startsWith("{")) {
            throw new CheckpointException(path + ": safetensors header is not a JSON object");
        }
        JsonNode header;
        try {
            header = JSON.readTree(headerText);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(path + ": safetensors header is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(path + ": safetensors header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        MemorySegment data = file.asSlice(dataStart);
        return new SafetensorsFile(path, sliceTensors(path, header, data), readMetadata(path, header));
    }

    private static String decodeUtf8(Path path, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path + ": safetensors header is not valid UTF-8", e);
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) { }

    private static Map<String, Tensor> sliceTensors(Path path, JsonNode header, MemorySegment data) {
        long dataLen = data.byteSize();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) continue;
            entries.add(parseEntry(path, f.getKey(), f.getValue(), dataLen));
        }
        // The data section must be covered exactly: sorted by offset, each tensor starts where the last ended.
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        for (Entry e : sorted) {
            if (e.begin < cursor) {
                throw new CheckpointException(path + ": tensor '" + e.name + "' data_offsets [" + e.begin + ", "
                        + e.end + "] overlap the previous tensor (which ends at " + cursor + ")");
            }
            if (e.begin > cursor) {
                throw new CheckpointException(path + ": bytes [" + cursor + ", " + e.begin
                        + ") of the data section belong to no tensor (before '" + e.name + "'); the header is corrupt");
            }
            cursor = e.end;
        }
        if (cursor != dataLen) {
            throw new CheckpointException(path + ": the tensors cover " + cursor + " bytes of data but the file holds "
                    + dataLen + " after the header" + (cursor > dataLen ? " (truncated)" : " (trailing garbage)"));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Entry e : entries) {
            out.put(e.name, Tensor.contiguous(e.name, e.dtype, e.shape, data.asSlice(e.begin, e.end - e.begin),
                    path.toString()));
        }
        return out;
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataLen) {
        String where = path + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new CheckpointException(where + ": header entry is not an object");
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new CheckpointException(where + ": header entry has no \"dtype\" string");
        }
        DType dtype = DType.fromSafetensors(dt.asText()).orElseThrow(() -> new CheckpointException(
                where + ": unsupported dtype '" + dt.asText() + "' (supported: F32, F16, BF16, and integer types)"));
        JsonNode sh = node.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new CheckpointException(where + ": header entry has no \"shape\" array");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new CheckpointException(where + ": shape " + sh + " has a dimension that is not a non-negative integer");
            }
            shape[i] = d.asLong();
        }
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                || !off.get(1).isIntegralNumber() || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
            throw new CheckpointException(where + ": \"data_offsets\" must be [begin, end], two integers of 64 bits at most");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin || end > dataLen) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end
                    + "] lie outside the data section of " + dataLen + " bytes" + (end > dataLen ? " (truncated file?)" : ""));
        }
        long expect;
        try {
            expect = dtype.bytesFor(Tensor.numel(shape));
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": shape " + sh + " overflows");
        }
        if (end - begin != expect) {
            throw new CheckpointException(where + ": holds " + (end - begin) + " bytes but shape " + sh + " of "
                    + dtype + " needs " + expect);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static Map<String, String> readMetadata(Path path, JsonNode header) {
        JsonNode meta = header.get("__metadata__");
        Map<String, String> out = new LinkedHashMap<>();
        if (meta == null || meta.isNull()) return out;
        if (!meta.isObject()) {
            throw new CheckpointException(path + ": \"__metadata__\" is not an object");
        }
        meta.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText()
                : e.getValue().toString()));
        return out;
    }

    public Path path() {
        return path;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** True when {@code path} looks like a safetensors file by name. */
    public static boolean isSafetensors(Path path) {
        return Files.isRegularFile(path) && path.getFileName().toString().endsWith(".safetensors");
    }
}
