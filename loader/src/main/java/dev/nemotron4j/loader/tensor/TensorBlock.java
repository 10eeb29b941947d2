package dev.nemotron4j.loader.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A dense, C-ordered (row-major) piece of a tensor: the elements from {@code start} (per dimension)
 * spanning {@code shape}, stored contiguously in {@code data}. A safetensors tensor is one block;
 * a zarr chunk or one query group's rows of a fused QKV weight is one block of a larger tensor.
 */
public record TensorBlock(long[] start, long[] shape, MemorySegment data) {
    public TensorBlock {
        if (start.length != shape.length) {
            throw new IllegalArgumentException("block start " + Arrays.toString(start) + " and shape "
                    + Arrays.toString(shape) + " differ in rank");
        }
        start = start.clone();
        shape = shape.clone();
    }

    @Override
    public long[] start() {
        return start.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long start(int dim) {
        return start[dim];
    }

    public long size(int dim) {
        return shape[dim];
    }

    @Override
    public String toString() {
        return "TensorBlock[start=" + Arrays.toString(start) + ", shape=" + Arrays.toString(shape)
                + ", bytes=" + data.byteSize() + "]";
    }
}
