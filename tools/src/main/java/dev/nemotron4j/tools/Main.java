package dev.nemotron4j.tools;

import dev.nemotron4j.tools.cli.Cli;

/** Entry point of the {@code nemotron4j} command line. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(Cli.run(args, System.out, System.err));
    }
}
