package dev.nemotron4j.loader.tensor;

import dev.nemotron4j.loader.CheckpointException;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;

/** The tensors of a checkpoint by name, with lookups that fail with a message naming what is missing. */
public final class TensorSet {
    private final SequencedMap<String, Tensor> byName;
    private final String origin;

    public TensorSet(Map<String, Tensor> tensors, String origin) {
        this.byName = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(tensors));
        this.origin = origin;
    }

    public SequencedMap<String, Tensor> all() {
        return byName;
    }

    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The tensor, or an error naming it and the checkpoint. */
    public Tensor require(String name) {
        Tensor t = byName.get(name);
        if (t == null) {
            throw new CheckpointException(origin + ": missing tensor '" + name + "'");
        }
        return t;
    }

    /** The tensor, checked to have exactly this shape. */
    public Tensor require(String name, long... shape) {
        Tensor t = require(name);
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException(t.origin() + ": tensor '" + name + "' has shape "
                    + java.util.Arrays.toString(t.shape()) + ", expected " + java.util.Arrays.toString(shape));
        }
        return t;
    }

    /** Bytes of every tensor together (what loading or converting the checkpoint reads). */
    public long totalBytes() {
        long sum = 0;
        for (Tensor t : byName.values()) sum += t.byteSize();
        return sum;
    }

    public String origin() {
        return origin;
    }

    public int size() {
        return byName.size();
    }
}
