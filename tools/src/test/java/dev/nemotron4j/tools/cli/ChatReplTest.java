package dev.nemotron4j.tools.cli;

import dev.nemotron4j.engine.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The chat REPL driven through a pipe, as a script would. */
class ChatReplTest {
    @TempDir
    Path tmp;

    static CliTest.Run chat(String stdin, String... args) {
        return chat(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    static CliTest.Run chat(byte[] stdin, String... args) {
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream(stdin));
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            String[] full = new String[args.length + 1];
            full[0] = "chat";
            System.arraycopy(args, 0, full, 1, args.length);
            int code = Cli.run(full, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            return new CliTest.Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void pipedTurnsGetOneReplyEachAndCommandsWork() {
        String script = """
                Hello there
                /set temperature 0
                /set top_k 5
                /set warmth 3
                How are you?
                \"\"\"
                a message
                over two lines
                \"\"\"
                /system Be brief.
                /stats
                /reset
                /stats
                /quit
                this line is never read
                """;
        CliTest.Run r = chat(script, "--model", Fixtures.path("nemotron-gqa-f32/hf").toString(), "-n", "8", "--seed", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(temperature 0.0, top_k 40"), r.out());
        assertTrue(r.out().contains("top_k 5"), r.out());
        assertTrue(r.out().contains("cannot set warmth"), r.out());
        assertTrue(r.out().contains("(system prompt set)"), r.out());
        assertTrue(r.out().contains("3 turns"), r.out());
        assertTrue(r.out().contains("(conversation cleared)"), r.out());
        assertTrue(r.out().contains("context 0 / 4096"), r.out());
        long statsLines = r.err().lines().filter(l -> l.startsWith("[") && l.contains("tok/s")).count();
        assertEquals(3, statsLines, r.err());
    }

    @Test
    void quittingBeforeTheFirstReplyStopsTheBackgroundWarmUpBeforeTheModelCloses() {
        CliTest.Run r = chat("/quit\n", "--model", Fixtures.path("nemotron-gqa-f32/hf").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(0, r.err().lines().filter(l -> l.startsWith("[")).count(), r.err());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("nemotron4j-warm-up")),
                "the warm-up thread outlived the chat");
    }

    @Test
    void aMessageCancelledWhileTheWarmUpFinishesIsNotSentAndTheNextOneIs() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8), e = new PrintStream(err, true, StandardCharsets.UTF_8);
        java.util.List<Boolean> asked = new java.util.ArrayList<>();
        try (LoadedModel lm = LoadedModel.open(Fixtures.path("nemotron-gqa-f32/hf"), new ModelOptions().loadOptions(), e);
             dev.nemotron4j.engine.chat.ChatSession chat = new dev.nemotron4j.engine.chat.ChatSession(lm.model, lm.tokenizer(),
                     dev.nemotron4j.engine.ModelTokenizers.chatFormat(lm.model.checkpoint(), lm.tokenizer(), "auto"), "");
             dev.nemotron4j.tools.repl.ReplInput in = dev.nemotron4j.tools.repl.ReplInput.open(
                     new ByteArrayInputStream("first message\nsecond message\n".getBytes(StandardCharsets.UTF_8)), o, true, null)) {
            // the first reply's wait is cut short by a Ctrl-C (the flag the terminal's handler sets), the second is not
            dev.nemotron4j.tools.repl.Repl.ReplyGate gate = cancelled -> {
                if (asked.isEmpty()) in.interruptFlag().set(true);
                asked.add(cancelled.getAsBoolean());
                return !cancelled.getAsBoolean();
            };
            new dev.nemotron4j.tools.repl.Repl(chat, in, e, dev.nemotron4j.engine.sampling.SamplingParams.greedy(4),
                    "fixture", gate).run();
            assertEquals(java.util.List.of(true, false), asked, "the flag was not cleared before the second reply's wait");
            assertEquals(1, err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("not sent")).count(), err.toString());
            assertEquals(1, err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("[")).count(), err.toString());
            assertEquals(2, chat.history().size(), chat.history().toString());
            assertTrue(chat.history().get(0).toString().contains("second message"), chat.history().toString());
        }
    }

    @Test
    void theSameSeedGivesTheSameRepliesFromTheHfFolderAndTheNemoFile() {
        String script = "Tell me a story\nAnd another\n";
        String[] flags = {"-n", "12", "--temperature", "0.9", "--seed", "5"};
        CliTest.Run hf = chat(script, CliTest.cat(new String[]{"--model", Fixtures.path("nemotron-gqa-f32/hf").toString()}, flags));
        CliTest.Run nemo = chat(script, CliTest.cat(new String[]{"--model", Fixtures.path("nemotron-gqa-f32/model.nemo").toString()}, flags));
        assertEquals(0, hf.code(), hf.err());
        assertEquals(hf.out(), nemo.out());
        assertTrue(hf.out().lines().count() >= 2, hf.out());
    }

    @Test
    void withoutAModelItChatsWithTheDemoModelAndSaysItsWordsAreMeaningless() throws Exception {
        String savedCache = System.getProperty("user.home");
        CliTest.Run r = chat("Hi\n", "--plain", "-n", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("demo model") && r.err().contains("meaningless"), r.err());
        assertTrue(Files.isDirectory(Path.of(savedCache)));
    }

    @Test
    void aTooLongMessageIsExplainedAndTheSessionGoesOnButAPipedChatExitsOne() {
        CliTest.Run r = chat("word ".repeat(300) + "\nshort one\n", "--model", Fixtures.path("nemotron-gqa-f32/hf").toString(),
                "--context", "64", "-n", "4");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("does not fit the context"), r.err());
        assertTrue(r.err().contains("1 message was not answered"), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("[")).count(), r.err());
        assertFalse(r.out().isBlank(), "the short message is answered");
    }

    @Test
    void aPipedTurnThatIsNotUtf8IsNamedAndDroppedWholeAndTheOthersAreAnswered() {
        ByteArrayOutputStream script = new ByteArrayOutputStream();
        script.writeBytes("first message\n".getBytes(StandardCharsets.UTF_8));
        script.writeBytes(new byte[]{'b', 'a', 'd', ' ', (byte) 0xff, '\n'});                            // line 2
        script.writeBytes("\"\"\"\na block\n".getBytes(StandardCharsets.UTF_8));
        script.writeBytes(new byte[]{'c', 'u', 't', ' ', (byte) 0xc3, '\n'});                            // line 5: half a character
        script.writeBytes("still the block\n\"\"\"\nlast message, ending in CR LF\r\n".getBytes(StandardCharsets.UTF_8));
        CliTest.Run r = chat(script.toByteArray(), "--model", Fixtures.path("nemotron-gqa-f32/hf").toString(), "-n", "4");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("line 2 of standard input is not UTF-8 text"), r.err());
        assertTrue(r.err().contains("line 5 of standard input is not UTF-8 text"), r.err());
        assertTrue(r.err().contains("2 messages were not answered"), r.err());
        // the first and the last message are answered; nothing of the dropped block became a turn of its own
        assertEquals(2, r.err().lines().filter(l -> l.startsWith("[") && l.contains("tok/s")).count(), r.err());
    }

    @Test
    void pipedLinesAreReadAsStrictUtf8WithTheirEndsRemoved() throws Exception {
        byte[] bytes = "caf\u00e9 \ud83d\ude00\r\nsecond\\\ncontinued\n\nno end".getBytes(StandardCharsets.UTF_8);
        try (dev.nemotron4j.tools.repl.ReplInput in = dev.nemotron4j.tools.repl.ReplInput.open(new ByteArrayInputStream(bytes),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), true, null)) {
            assertEquals("caf\u00e9 \ud83d\ude00", in.readTurn());
            assertEquals("second\ncontinued", in.readTurn());
            assertEquals("", in.readTurn());
            assertEquals("no end", in.readTurn());
            assertEquals(null, in.readTurn());
        }
    }
}
