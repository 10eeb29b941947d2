package dev.nemotron4j.loader.torch;

import dev.nemotron4j.loader.CheckpointException;
import dev.nemotron4j.loader.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pickle reader runs nothing: calls outside the inert allowlist are refused by name, before any effect. */
class SafePickleTest {
    @TempDir
    Path tmp;

    private static Object load(byte[] pickle) {
        return SafePickle.load(MemorySegment.ofArray(pickle), "test.pkl");
    }

    private void assertRefused(byte[] pickle, String global, Path marker) {
        PickleSecurityException e = assertThrows(PickleSecurityException.class, () -> load(pickle));
        assertTrue(e.getMessage().contains(global), e.getMessage());
        assertFalse(Files.exists(marker), "the pickle must not have run");
    }

    @Test
    void osSystemIsRefusedAndNothingRuns() {
        Path marker = tmp.resolve("pwned");
        byte[] p = new PickleBuilder().global("os", "system").str("touch " + marker).op(0x85, 'R').stop();
        assertRefused(p, "os.system", marker);
        byte[] posix = new PickleBuilder().global("posix", "system").str("touch " + marker).op(0x85, 'R').stop();
        assertRefused(posix, "posix.system", marker);
    }

    @Test
    void builtinsEvalThroughStackGlobalIsRefused() {
        Path marker = tmp.resolve("pwned");
        byte[] p = new PickleBuilder().str("builtins").str("eval").op(0x93)
                .str("__import__('os').system('touch " + marker + "')").op(0x85, 'R').stop();
        assertRefused(p, "builtins.eval", marker);
    }

    @Test
    void subprocessThroughNewObjIsRefused() {
        Path marker = tmp.resolve("pwned");
        byte[] p = new PickleBuilder().global("subprocess", "Popen").op('(').str("touch").str(marker.toString()).op('l')
                .op(0x85, 0x81).stop();
        assertRefused(p, "subprocess.Popen", marker);
    }

    @Test
    void callingTheResultOfAnAllowedCallIsRefused() {
        // getattr-style tricks: REDUCE on something that is not a global name
        byte[] p = new PickleBuilder().global("collections", "OrderedDict").op(')', 'R', ')', 'R').stop();
        assertThrows(PickleSecurityException.class, () -> load(p));
    }

    /**
     * Two lists holding each other (A in B in A), then called: refused by kind and size, not printed without end (a
     * stack overflow; Java prints a list that holds itself directly as "(this Collection)", but not an indirect cycle).
     */
    @Test
    void aCycleOfListsIsDescribedWithoutPrintingIt() {
        byte[] p = new PickleBuilder().op(']', 'q', 0, ']', 'q', 1, 'h', 0, 'a', 'a', ')', 'R').stop();
        PickleSecurityException e = assertThrows(PickleSecurityException.class, () -> load(p));
        assertTrue(e.getMessage().contains("ArrayList of 1 items"), e.getMessage());
    }

    @Test
    void instAndObjOpcodesAreNotInterpreted() {
        byte[] inst = new PickleBuilder().op('(').str("x").op('i').op("os\nsystem\n".chars().toArray()).stop();
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(inst));
        assertTrue(e.getMessage().contains("unsupported pickle opcode 0x69"), e.getMessage());
    }

    @Test
    void truncatedPickleIsReported() {
        byte[] good = PickleBuilder.stateDictPickle("w", 2, 3);
        byte[] cut = java.util.Arrays.copyOf(good, good.length / 2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(cut));
        assertTrue(e.getMessage().contains("test.pkl"), e.getMessage());
    }

    @Test
    void extraStateBytesIoIsKeptInertAndTensorsAreMappedInPlace() throws Exception {
        // {"w": tensor, "x._extra_state": BytesIO(encode('\x00fp8', 'latin1'))} — as TransformerEngine saves it
        byte[] tensor = PickleBuilder.stateDictPickle("w", 2, 3);
        byte[] body = java.util.Arrays.copyOf(tensor, tensor.length - 2); // drop SETITEMS and STOP
        byte[] tail = new PickleBuilder().str("x._extra_state").global("_io", "BytesIO").op(')', 0x81)
                .global("_codecs", "encode").str("\u0000fp8").str("latin1").op(0x86, 'R', 'K', 0, 'N', 0x87, 'b', 'u').stop();
        byte[] pickle = new byte[body.length + tail.length - 2];
        System.arraycopy(body, 0, pickle, 0, body.length);
        System.arraycopy(tail, 2, pickle, body.length, tail.length - 2); // skip the second PROTO header
        ByteBuffer storage = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) storage.putFloat(i * 1.5f);
        byte[] zip = PickleBuilder.torchZip(pickle, storage.array());
        Map<String, Tensor> t = TorchCheckpoint.read(MemorySegment.ofArray(zip), "test.ckpt");
        assertTrue(t.containsKey("w") && !t.containsKey("x._extra_state"), t.keySet().toString());
        assertArrayEquals(new long[]{2, 3}, t.get("w").shape());
        assertArrayEquals(new float[]{0, 1.5f, 3, 4.5f, 6, 7.5f}, t.get("w").toFloatArray());
    }

    @Test
    void missingOrShortStorageIsNamed() throws Exception {
        byte[] zip = PickleBuilder.torchZip(PickleBuilder.stateDictPickle("layer.w", 4, 4), null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.read(MemorySegment.ofArray(zip), "m.ckpt"));
        assertTrue(e.getMessage().contains("'layer.w'") && e.getMessage().contains("missing"), e.getMessage());
        byte[] shortZip = PickleBuilder.torchZip(PickleBuilder.stateDictPickle("layer.w", 4, 4), new byte[10]);
        e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.read(MemorySegment.ofArray(shortZip), "m.ckpt"));
        assertTrue(e.getMessage().contains("'layer.w'") && e.getMessage().contains("64"), e.getMessage());
        byte[] truncated = java.util.Arrays.copyOf(PickleBuilder.torchZip(PickleBuilder.stateDictPickle("w", 2), new byte[8]), 100);
        e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.read(MemorySegment.ofArray(truncated), "cut.ckpt"));
        assertTrue(e.getMessage().contains("cut.ckpt"), e.getMessage());
    }
}
