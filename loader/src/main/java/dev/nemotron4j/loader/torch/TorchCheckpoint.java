package dev.nemotron4j.loader.torch;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.DType;
import dev.nemotron4j.loader.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code torch.save} file (ZIP of {@code data.pkl} + {@code data/<key>} storages) read in place: the state
 * dict's tensors become slices of the mapped storages. Non-tensor values (TransformerEngine
 * {@code _extra_state} blobs and the like) are left out.
 */
public final class TorchCheckpoint {
    private TorchCheckpoint() {
    }

    public static Map<String, Tensor> read(MemorySegment file, String origin) {
        if (!ZipImage.looksLikeZip(file)) {
            throw new CheckpointException(origin + ": not a torch.save ZIP file (legacy non-ZIP torch files are not supported)");
        }
        ZipImage zip = ZipImage.read(file, origin);
        String pklName = zip.entries().keySet().stream().filter(n -> n.equals("data.pkl") || n.endsWith("/data.pkl"))
                .findFirst().orElseThrow(() -> new CheckpointException(origin + ": torch.save file without data.pkl"));
        String prefix = pklName.substring(0, pklName.length() - "data.pkl".length());
        Object top = SafePickle.load(zip.entries().get(pklName), origin + "!" + pklName);
        if (top instanceof SafePickle.Call c && c.state instanceof Map<?, ?> m) top = m;
        if (!(top instanceof Map<?, ?> dict)) {
            throw new CheckpointException(origin + ": expected a state dict, found " + (top == null ? "None" : top.getClass().getSimpleName()));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            String name = String.valueOf(e.getKey());
            if (e.getValue() instanceof SafePickle.TensorRef ref) {
                out.put(name, tensor(name, ref, zip, prefix, origin));
            } else if (e.getValue() instanceof Map<?, ?> nested && name.equals("state_dict")) {
                // some trainers wrap the weights: {"state_dict": {...}}
                for (Map.Entry<?, ?> n : nested.entrySet()) {
                    if (n.getValue() instanceof SafePickle.TensorRef ref) {
                        out.put(String.valueOf(n.getKey()), tensor(String.valueOf(n.getKey()), ref, zip, prefix, origin));
                    }
                }
            }
        }
        return out;
    }

    /** A single tensor saved by {@code torch.save(tensor)} (what a PyTorch DCP chunk holds). */
    public static Tensor readSingle(MemorySegment file, String name, String origin) {
        ZipImage zip = ZipImage.read(file, origin);
        String pklName = zip.entries().keySet().stream().filter(n -> n.endsWith("data.pkl")).findFirst()
                .orElseThrow(() -> new CheckpointException(origin + ": torch.save file without data.pkl"));
        Object top = SafePickle.load(zip.entries().get(pklName), origin);
        if (!(top instanceof SafePickle.TensorRef ref)) {
            throw new CheckpointException(origin + ": expected one tensor, found " + top);
        }
        return tensor(name, ref, zip, pklName.substring(0, pklName.length() - "data.pkl".length()), origin);
    }

    static DType dtypeOf(String storageType, String origin, String name) {
        return switch (storageType) {
            case "FloatStorage" -> DType.F32;
            case "BFloat16Storage" -> DType.BF16;
            case "HalfStorage" -> DType.F16;
            case "DoubleStorage" -> DType.F64;
            case "LongStorage" -> DType.I64;
            case "IntStorage" -> DType.I32;
            case "ShortStorage" -> DType.I16;
            case "CharStorage" -> DType.I8;
            case "ByteStorage" -> DType.U8;
            case "BoolStorage" -> DType.BOOL;
            default -> throw new CheckpointException(origin + ": tensor '" + name + "' uses storage type " + storageType
                    + ", which is not supported");
        };
    }

    private static Tensor tensor(String name, SafePickle.TensorRef ref, ZipImage zip, String prefix, String origin) {
        DType dtype = dtypeOf(ref.storage().storageType(), origin, name);
        MemorySegment storage = zip.entries().get(prefix + "data/" + ref.storage().key());
        if (storage == null) {
            throw new CheckpointException(origin + ": tensor '" + name + "' refers to storage data/" + ref.storage().key()
                    + ", which is missing from the archive");
        }
        long item = dtype.byteSize();
        if (storage.byteSize() < ref.storage().numel() * item) {
            throw new CheckpointException(origin + ": storage data/" + ref.storage().key() + " of tensor '" + name + "' holds "
                    + storage.byteSize() + " bytes, expected " + ref.storage().numel() * item + " (truncated?)");
        }
        long[] size = ref.size();
        if (ref.stride().length != size.length) {
            throw new CheckpointException(origin + ": tensor '" + name + "' has " + size.length + " dimensions but "
                    + ref.stride().length + " strides");
        }
        long numel = Tensor.numel(size);
        long expect = 1;
        for (int d = size.length - 1; d >= 0; d--) { // only C-contiguous tensors can be used in place
            if (size[d] != 1 && ref.stride()[d] != expect) {
                throw new CheckpointException(origin + ": tensor '" + name + "' is not contiguous (size "
                        + Arrays.toString(size) + ", stride " + Arrays.toString(ref.stride()) + ")");
            }
            expect *= size[d];
        }
        long begin, bytes;
        try {
            begin = Math.multiplyExact(ref.storageOffset(), (long) item);
            bytes = Math.multiplyExact(numel, (long) item);
        } catch (ArithmeticException e) {
            throw new CheckpointException(origin + ": tensor '" + name + "' has an offset or size beyond any file");
        }
        if (ref.storageOffset() < 0 || bytes > storage.byteSize() || begin > storage.byteSize() - bytes) {
            throw new CheckpointException(origin + ": tensor '" + name + "' reaches past its storage data/" + ref.storage().key());
        }
        return Tensor.contiguous(name, dtype, size, storage.asSlice(begin, bytes), origin);
    }
}
