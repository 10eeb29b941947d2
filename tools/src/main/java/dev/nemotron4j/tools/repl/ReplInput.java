package dev.nemotron4j.tools.repl;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
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

    /** The next turn, or null at end of input. */
    public abstract String readTurn() throws IOException;

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

    static final class Piped extends ReplInput {
        private final BufferedReader in;

        Piped(InputStream in, PrintStream out) {
            super(out);
            this.in = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        }

        @Override
        public String readTurn() throws IOException {
            String first = in.readLine();
            return first == null ? null : join(first, in::readLine);
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
