package dev.mplug.data.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthCommandTest {
  static int run(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return Main.run(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void writesTheWorldAndReportsCounts(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = run(out, err, "synth", "--out", dir.toString(), "--images", "10", "--videos", "1", "--seed", "5",
        "--res", "32");
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("images      9 train, 1 test (32 x 32 px)"), text);
    assertTrue(Files.isRegularFile(dir.resolve(SynthFiles.image(9))));
    assertTrue(Files.isRegularFile(dir.resolve(SynthFiles.video(0))));
    assertTrue(Files.isRegularFile(dir.resolve(SynthFiles.MANIFEST)));
    long lines = Files.readAllLines(dir.resolve(SynthFiles.VOCAB)).size();
    assertTrue(text.contains("vocabulary  " + lines + " tokens (vocab.txt, BERT layout)"), text);
  }

  @Test
  void badOptionsEndWithOneClearLine(@TempDir Path dir) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = run(out, err, "synth", "--out", dir.toString(), "--images", "1");
    assertEquals(2, code);
    assertEquals("mplug synth: images must be >= 2 (train and test), got 1", err.toString(StandardCharsets.UTF_8)
        .strip());
    err.reset();
    assertEquals(2, run(out, err, "synth", "--out", dir.toString(), "--images", "4", "--res", "8"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("resolution must be 32..1024"), err.toString());
  }
}
