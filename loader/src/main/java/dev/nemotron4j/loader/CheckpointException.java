package dev.nemotron4j.loader;

/**
 * A checkpoint that cannot be used as it is: truncated, corrupt, of an unsupported kind, or missing
 * something. The message always names the file and, where there is one, the tensor, and says what
 * was expected, so it can be shown to a user as it is.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
