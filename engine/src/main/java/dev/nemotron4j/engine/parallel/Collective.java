package dev.nemotron4j.engine.parallel;

/**
 * The communication a tensor-parallel rank needs: after each row-parallel projection (attention output and
 * MLP down), every rank holds a partial sum of the full hidden state and they all-reduce it. With one rank
 * this is the identity.
 */
public interface Collective {
    int rank();

    int worldSize();

    /** Replaces {@code data[off, off+len)} on every rank by the element-wise sum over ranks. */
    void allReduceSum(float[] data, int off, int len);

    /** The single-process, single-rank case. */
    static Collective single() {
        return SingleRank.INSTANCE;
    }

    enum SingleRank implements Collective {
        INSTANCE;

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int worldSize() {
            return 1;
        }

        @Override
        public void allReduceSum(float[] data, int off, int len) {
            // one rank: its partial sum is the sum
        }
    }
}
