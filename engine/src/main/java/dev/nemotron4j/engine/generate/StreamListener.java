package dev.nemotron4j.engine.generate;

/** Sees each generated token with the text it releases; return false to stop generating. */
@FunctionalInterface
public interface StreamListener {
    boolean onToken(GeneratedToken token);
}
