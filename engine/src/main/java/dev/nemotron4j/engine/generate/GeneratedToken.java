package dev.nemotron4j.engine.generate;

/**
 * One generated token. {@code text} is the text this token releases: never half a UTF-8 character and never
 * part of a stop string (text that might still become one is held back until it is clear), so concatenating
 * the {@code text} of every token gives the reply. {@code logprob} is NaN unless requested.
 */
public record GeneratedToken(int id, String text, float logprob) {
}
