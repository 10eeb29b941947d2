package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.ModelTokenizers;
import dev.nemotron4j.loader.Checkpoint;
import dev.nemotron4j.loader.CheckpointLoader;
import dev.nemotron4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n", footer = {"  nemotron4j tokenize -m model.gguf --text \"Hello, world\""},
        description = "Print the model tokenizer's ids and pieces of a text: {\"ids\":[...],\"pieces\":[...]}.")
final class TokenizeCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Cli parent;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "Model: Hugging Face folder, .gguf file, .nemo file or extracted .nemo directory.")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "Text to tokenize (no BOS added).")
    String text;

    @Override
    public Integer call() throws Exception {
        try (Checkpoint ck = CheckpointLoader.open(model); Tokenizer tok = ModelTokenizers.require(ck);
             Json json = new Json(parent.out)) {
            int[] ids = tok.encode(text);
            json.g.writeStartObject();
            json.ints("ids", ids);
            json.g.writeArrayFieldStart("pieces");
            for (String p : tok.pieces(ids)) json.g.writeString(p);
            json.g.writeEndArray();
            json.g.writeEndObject();
        }
        return 0;
    }
}
