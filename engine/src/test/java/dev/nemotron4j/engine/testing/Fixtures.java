package dev.nemotron4j.engine.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The golden fixtures copied from ../shared/fixtures into engine/src/test/resources/fixtures. */
public final class Fixtures {
    private Fixtures() {
    }

    /** The fixtures folder, found from any module's working directory. */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            Path candidate = p.resolve("engine/src/test/resources/fixtures");
            if (Files.isDirectory(candidate)) return candidate;
        }
        throw new IllegalStateException("engine/src/test/resources/fixtures not found above " + dir);
    }

    public static Path path(String relative) {
        return root().resolve(relative);
    }

    /** One prompt of a golden.json: ids, logits per position, greedy continuation and its margins. */
    public record Prompt(int[] ids, float[][] logits, int[] greedy, double[] margins) {
    }

    public record Golden(JsonNode config, List<Prompt> prompts) {
    }

    public static Golden golden(String fixture) {
        try {
            JsonNode root = new ObjectMapper().readTree(path(fixture).resolve("golden.json").toFile());
            List<Prompt> prompts = new ArrayList<>();
            for (JsonNode p : root.get("prompts")) {
                JsonNode lg = p.get("logits");
                float[][] logits = new float[lg.size()][];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = new float[lg.get(i).size()];
                    for (int j = 0; j < logits[i].length; j++) logits[i][j] = (float) lg.get(i).get(j).asDouble();
                }
                double[] margins = new double[p.path("greedy_margins").size()];
                for (int i = 0; i < margins.length; i++) margins[i] = p.get("greedy_margins").get(i).asDouble();
                prompts.add(new Prompt(ints(p.get("ids")), logits, ints(p.get("greedy")), margins));
            }
            return new Golden(root.get("config"), prompts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}
