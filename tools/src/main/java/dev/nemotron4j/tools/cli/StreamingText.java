package dev.nemotron4j.tools.cli;

import dev.nemotron4j.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Prints generated text as tokens arrive. Decodes the whole continuation each time and prints what is new,
 * holding back a trailing U+FFFD (half of a multi-byte character still to come).
 */
final class StreamingText {
    private final Tokenizer tokenizer;
    private final PrintStream out;
    private int[] ids = new int[16];
    private int n;
    private int printed;

    StreamingText(Tokenizer tokenizer, PrintStream out) {
        this.tokenizer = tokenizer;
        this.out = out;
    }

    void accept(int id) {
        if (n == ids.length) ids = Arrays.copyOf(ids, n * 2);
        ids[n++] = id;
        String text = tokenizer.decode(Arrays.copyOf(ids, n));
        int end = text.length();
        while (end > printed && text.charAt(end - 1) == '\uFFFD') end--;
        if (end > printed) {
            out.print(text.substring(printed, end));
            out.flush();
            printed = end;
        }
    }

    void finish() {
        String text = tokenizer.decode(Arrays.copyOf(ids, n));
        if (text.length() > printed) out.print(text.substring(printed));
        out.println();
        out.flush();
    }
}
