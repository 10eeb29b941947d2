package dev.nemotron4j.tools.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;

/** Streaming JSON to stdout (logits rows can be large, so nothing is built in memory first). */
final class Json implements AutoCloseable {
    private static final JsonFactory FACTORY = new JsonFactory();
    final JsonGenerator g;
    private final PrintStream out;

    Json(PrintStream out) {
        this.out = out;
        try {
            this.g = FACTORY.createGenerator((OutputStream) new java.io.FilterOutputStream(out) {
                @Override
                public void close() throws IOException {
                    flush(); // leave stdout open
                }
            }, JsonEncoding.UTF8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void ints(String field, int[] values) throws IOException {
        g.writeFieldName(field);
        g.writeArray(values, 0, values.length);
    }

    void floats(float[] values, int off, int len) throws IOException {
        g.writeStartArray();
        for (int i = 0; i < len; i++) g.writeNumber(values[off + i]);
        g.writeEndArray();
    }

    @Override
    public void close() throws IOException {
        g.close();
        out.println();
        out.flush();
    }
}
