package dev.nemotron4j.tools.cli;

/** A mistake in what the user asked for; shown as one line, exit code 2. */
final class UserException extends RuntimeException {
    UserException(String message) {
        super(message);
    }
}
