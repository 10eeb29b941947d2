package dev.nemotron4j.loader.torch;

import dev.nemotron4j.loader.CheckpointException;

/** A pickle asked to call something outside the handful of inert constructors torch checkpoints use. */
public final class PickleSecurityException extends CheckpointException {
    public PickleSecurityException(String message) {
        super(message);
    }
}
