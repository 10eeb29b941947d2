package dev.nemotron4j.loader.nemo;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.Tensor;

import java.util.Map;

/** PyTorch DCP ("torch_dist") distributed checkpoints: {@code .metadata} pickle + {@code __R_I.distcp} files. */
final class TorchDistCheckpoint {
    private TorchDistCheckpoint() {
    }

    static Map<String, Tensor> read(NemoContainer c, String dir) {
        throw new CheckpointException(c.origin() + ": " + dir + "/ is a torch_dist (PyTorch DCP) checkpoint, which this "
                + "version cannot read yet; convert it with NeMo to zarr or a torch checkpoint");
    }
}
