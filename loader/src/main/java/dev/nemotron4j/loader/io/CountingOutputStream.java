package dev.nemotron4j.loader.io;

import java.io.IOException;
import java.io.OutputStream;
import java.util.function.LongConsumer;

/**
 * Passes bytes through and counts them, so writers can check that each tensor wrote exactly its size (and, with a
 * listener, report progress as the bytes go).
 */
public final class CountingOutputStream extends OutputStream {
    private final OutputStream out;
    private final LongConsumer listener;
    private long count;

    public CountingOutputStream(OutputStream out) {
        this(out, null);
    }

    /** As {@link #CountingOutputStream(OutputStream)}, telling {@code listener} the count after each write. */
    public CountingOutputStream(OutputStream out, LongConsumer listener) {
        this.out = out;
        this.listener = listener;
    }

    public long count() {
        return count;
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        count++;
        if (listener != null) listener.accept(count);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        count += len;
        if (listener != null) listener.accept(count);
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
