package dev.nemotron4j.tools.repl;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where user turns come from: a terminal (line editing, history, Ctrl-C stops a reply) or a pipe (one turn per
 * line). Both accept multi-line turns: end a line with a backslash to continue it, or wrap lines in """.
 */
public abstract sealed class ReplInput implements AutoCloseable permits ReplInput.Console, ReplInput.Piped {
    private final PrintStream out;
    private final AtomicBoolean interrupted = new AtomicBoolean();

    private ReplInput(PrintStream out) {
        this.out = out;
    }

    /**
     * The next turn, or null at end of input.
     *
     * @throws NotUtf8Exception a line of the turn was not UTF-8 text: the whole turn was read (so the next call starts
     *                          at the next one) and is dropped
     */
    public abstract String readTurn() throws IOException;

    /** A turn with a line that is not UTF-8 text: read to its end and dropped, the input still usable. */
    public static final class NotUtf8Exception extends IOException {
        private final long line;

        NotUtf8Exception(long line) {
            super("line " + line + " of standard input is not UTF-8 text");
            this.line = line;
        }

        /** The first such line of the turn, counted from 1. */
        public long line() {
            return line;
        }
    }

    public abstract boolean interactive();

    /** Set while a reply is generated; true once the user pressed Ctrl-C. */
    public final AtomicBoolean interruptFlag() {
        return interrupted;
    }

    public final PrintStream out() {
        return out;
    }

    @Override
    public abstract void close() throws IOException;

    /** A terminal when there is one, else the given streams. */
    public static ReplInput open(InputStream in, PrintStream out, boolean forcePlain, Path historyFile) throws IOException {
        if (!forcePlain && System.console() != null && in == System.in) {
            Terminal t = TerminalBuilder.builder().system(true).build();
            if (!Terminal.TYPE_DUMB.equals(t.getType()) && !Terminal.TYPE_DUMB_COLOR.equals(t.getType())) {
                return new Console(t, historyFile);
            }
            t.close();
        }
        return new Piped(in, out);
    }

    static String join(String first, LineSource more) throws IOException {
        if (first.strip().equals("\"\"\"")) {
            StringBuilder sb = new StringBuilder();
            for (String l = more.next(); l != null && !l.strip().equals("\"\"\""); l = more.next()) {
                if (!sb.isEmpty()) sb.append('\n');
                sb.append(l);
            }
            return sb.toString();
        }
        StringBuilder sb = new StringBuilder();
        String line = first;
        while (line != null && line.endsWith("\\")) {
            sb.append(line, 0, line.length() - 1).append('\n');
            line = more.next();
        }
        if (line != null) sb.append(line);
        return sb.toString();
    }

    interface LineSource {
        String next() throws IOException;
    }

    static final class Console extends ReplInput {
        private final Terminal terminal;
        private final LineReader reader;

        Console(Terminal terminal, Path historyFile) {
            super(new PrintStream(terminal.output(), true, StandardCharsets.UTF_8));
            this.terminal = terminal;
            LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal);
            if (historyFile != null) b.variable(LineReader.HISTORY_FILE, historyFile);
            this.reader = b.build();
            terminal.handle(Terminal.Signal.INT, sig -> interruptFlag().set(true));
        }

        @Override
        public String readTurn() {
            while (true) {
                try {
                    String first = reader.readLine("> ");
                    return join(first, () -> {
                        try {
                            return reader.readLine("… ");
                        } catch (UserInterruptException | EndOfFileException e) {
                            return null;
                        }
                    });
                } catch (UserInterruptException e) {
                    out().println("(Ctrl-C stops a reply; /quit or Ctrl-D leaves)");
                } catch (EndOfFileException e) {
                    return null;
                } catch (IOException e) {
                    return null;
                }
            }
        }

        @Override
        public boolean interactive() {
            return true;
        }

        @Override
        public void close() throws IOException {
            reader.getHistory().save();
            terminal.close();
        }
    }

    /**
     * Lines from a stream, each decoded as strict UTF-8 (a decoder that replaces bad bytes would send the model text the
     * user did not write); a line that is not UTF-8 is still read, with replacement characters, so that a turn's
     * structure (a continuation backslash, a closing """) holds, and {@link #readTurn} drops that turn.
     */
    static final class Piped extends ReplInput {
        private final BufferedInputStream in;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private long lines;
        /** The first line of the current turn that was not UTF-8, or 0. */
        private long badLine;

        Piped(InputStream in, PrintStream out) {
            super(out);
            this.in = new BufferedInputStream(in);
        }

        @Override
        public String readTurn() throws IOException {
            badLine = 0;
            String first = nextLine();
            if (first == null) return null;
            String turn = join(first, this::nextLine);
            if (badLine != 0) throw new NotUtf8Exception(badLine);
            return turn;
        }

        /** The next line without its end (\n or \r\n), or null at the end of the input. */
        private String nextLine() throws IOException {
            line.reset();
            int b = in.read();
            if (b < 0) return null;
            for (; b >= 0 && b != '\n'; b = in.read()) line.write(b);
            byte[] bytes = line.toByteArray();
            int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            lines++;
            try {
                return strict.decode(ByteBuffer.wrap(bytes, 0, n)).toString();
            } catch (CharacterCodingException e) {
                if (badLine == 0) badLine = lines;
                return new String(bytes, 0, n, StandardCharsets.UTF_8);
            }
        }

        @Override
        public boolean interactive() {
            return false;
        }

        @Override
        public void close() {
        }
    }
}
