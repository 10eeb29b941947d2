package dev.nemotron4j.engine.generate;

/** Called with each generated token; return false to stop generating. */
@FunctionalInterface
public interface TokenListener {
    boolean onToken(int tokenId);

    TokenListener NONE = id -> true;
}
