package dev.nemotron4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns generated ids into text deltas as they arrive, never emitting half of a multi-byte UTF-8 character:
 * bytes of an incomplete character are held until the token that completes it. Not thread-safe.
 */
public final class StreamingDecoder {
    /** The bytes one token contributes; {@code first} is true for the first token of the text. */
    @FunctionalInterface
    public interface TokenBytes {
        byte[] bytes(int id, boolean first);
    }

    private final TokenBytes tokens;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean first;

    public StreamingDecoder(TokenBytes tokens, boolean atStart) {
        this.tokens = tokens;
        this.first = atStart;
    }

    /** Text completed by {@code id} (possibly empty). */
    public String push(int id) {
        byte[] b = tokens.bytes(id, first);
        if (b.length > 0) first = false;
        pending.writeBytes(b);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** Whatever is still held (an unfinished character becomes U+FFFD). */
    public String flush() {
        byte[] rest = pending.toByteArray();
        pending.reset();
        return new String(rest, StandardCharsets.UTF_8);
    }

    /** Length of the longest prefix that does not end inside a UTF-8 character. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // look back at most 3 bytes for the start of a multi-byte sequence
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n; // only continuation bytes (invalid): let the decoder replace them
    }
}
