package dev.nemotron4j.tools.cli;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.tokenizer.TokenizerException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** The top-level command: sub-commands, error reporting and exit codes. */
@Command(name = "nemotron4j",
        mixinStandardHelpOptions = true,
        versionProvider = Cli.Version.class,
        description = {"Run NVIDIA Nemotron (and Llama-3.1-Nemotron) models on the JVM: memory-mapped weights, SIMD kernels.",
                "",
                "Models: a Hugging Face folder (config.json + *.safetensors), a .gguf file, a .nemo file,",
                "or an extracted .nemo directory.",
                "With no command it runs 'chat' on the built-in demo model.",
                "Exit codes: 0 ok, 1 internal error, 2 bad input or usage."},
        footerHeading = "%nExamples:%n",
        footer = {"  nemotron4j                                        chat with the built-in demo model",
                "  nemotron4j chat -m Nemotron-Mini-4B-Instruct.gguf",
                "  nemotron4j generate -m model.gguf -p \"Once upon a time\" -n 64",
                "  nemotron4j bench -m model.gguf                    prefill and decode tokens/s, like llama-bench",
                "  nemotron4j help COMMAND                           each command's options and examples",
                "",
                "Environment:",
                "  NEMOTRON4J_JAVA_OPTS   more JVM options for the launcher, e.g. -Xmx4g, or -XX:UseAVX=2 to run",
                "                         the kernels an AVX2 machine would",
                "  NEMOTRON4J_DEBUG=1     print the stack trace of an internal error"},
        subcommands = {ChatCommand.class, GenerateCommand.class, LogitsCommand.class, InspectCommand.class, TokenizeCommand.class,
                BenchCommand.class, QuantizeCommand.class, RandomModelCommand.class, ConvertCommand.class,
                CommandLine.HelpCommand.class})
public final class Cli implements Runnable {
    public static final int EXIT_INTERNAL = 1;
    public static final int EXIT_USER = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Where commands print; System.out/err from {@code main}, captured streams in tests. */
    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Runs one command line; returns the exit code. Never exits the JVM itself (embeddable, testable). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) args = new String[]{"chat"}; // the main job: a chat (on the demo model without --model)
        Cli root = new Cli();
        root.out = out;
        root.err = err;
        CommandLine cl = new CommandLine(root);
        cl.setUsageHelpWidth(100);   // the descriptions are written to that width (80 broke them mid-word: "a .⏎nemo")
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, line, parsed) -> report(ex, err));
        cl.setParameterExceptionHandler((ex, args1) -> {
            err.println("nemotron4j: " + InputOptions.plainMessage(ex.getMessage()));
            err.println("Try 'nemotron4j " + commandName(ex.getCommandLine()) + "--help' for more information.");
            return EXIT_USER;
        });
        try {
            return cl.execute(args);
        } catch (StackOverflowError | OutOfMemoryError e) {   // picocli hands errors on as they are
            return report(e, err);
        }
    }

    private static String commandName(CommandLine cl) {
        String name = cl.getCommandName();
        return "nemotron4j".equals(name) ? "" : name + " ";
    }

    static int report(Throwable ex, PrintStream err) {
        Throwable t = ex;
        if (t instanceof UncheckedIOException u) t = u.getCause();
        if (t instanceof CheckpointException || t instanceof TokenizerException || t instanceof UserException
                || t instanceof IllegalArgumentException) {
            // one line: a JSON parser's message (kept inside ours) goes on with its source and position on others
            err.println("nemotron4j: error: " + String.valueOf(t.getMessage()).replaceAll("\\s*\\R\\s*", " "));
            return EXIT_USER;
        }
        if (t instanceof java.nio.file.NoSuchFileException nsf) {
            err.println("nemotron4j: error: " + nsf.getFile() + ": no such file");
            return EXIT_USER;
        }
        if (t instanceof IOException io) {
            err.println("nemotron4j: error: " + io.getMessage());
            return EXIT_USER;
        }
        if (t instanceof StackOverflowError) {
            err.println("nemotron4j: error: the input nests or refers to itself too deeply to read (a corrupt or hostile file?)");
            return EXIT_USER;
        }
        if (t instanceof OutOfMemoryError oom) {
            err.println("nemotron4j: error: out of memory (" + oom.getMessage() + "): the Java heap is too small for this, "
                    + "or an input claims an absurd size");
            return EXIT_INTERNAL;
        }
        if (t instanceof NoClassDefFoundError ncd && String.valueOf(ncd.getMessage()).contains("jdk/incubator/vector")) {
            err.println("nemotron4j: error: the Vector API module is not enabled; run java with "
                    + "--add-modules jdk.incubator.vector (the ./nemotron4j launcher does this)");
            return EXIT_USER;
        }
        boolean debug = !String.valueOf(System.getenv("NEMOTRON4J_DEBUG")).matches("null|0|false|");
        err.println("nemotron4j: internal error: " + t + (debug ? "" : " (set NEMOTRON4J_DEBUG=1 for the stack trace)"));
        if (debug) t.printStackTrace(err);
        return EXIT_INTERNAL;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Cli.class.getPackage().getImplementationVersion();
            return new String[]{"nemotron4j " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ", "
                    + dev.nemotron4j.engine.kernels.VectorInfo.describe() + ")"};
        }
    }
}
