package dev.nemotron4j.engine.kernels;

import jdk.incubator.vector.FloatVector;

import java.lang.management.ManagementFactory;
import java.util.Optional;

/** What the Vector API gives on this machine, and a warning when it will be slow. */
public final class VectorInfo {
    private VectorInfo() {
    }

    public static String describe() {
        return "SIMD " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit, " + FloatVector.SPECIES_PREFERRED.length()
                + " floats per vector";
    }

    /**
     * A sentence for the user when vector code will not be compiled to SIMD instructions (interpreter only, or
     * vectors too narrow to help); empty when all is well.
     */
    public static Optional<String> slownessWarning() {
        if (FloatVector.SPECIES_PREFERRED.vectorBitSize() < 128) {
            return Optional.of("this CPU/JVM offers only " + FloatVector.SPECIES_PREFERRED.vectorBitSize()
                    + "-bit vectors: inference will be slow");
        }
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.equals("-Xint") || arg.startsWith("-XX:TieredStopAtLevel=") && !arg.endsWith("4")) {
                return Optional.of("the JIT is limited (" + arg + "): Vector API code will not be intrinsified and "
                        + "inference will be very slow");
            }
        }
        return Optional.empty();
    }
}
