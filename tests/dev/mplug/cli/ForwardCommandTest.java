package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.io.SafeTensors;
import dev.mplug.io.StateDict;
import dev.mplug.io.TorchCheckpoint;
import dev.mplug.torch.Tensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mplug forward}: writes the listed outputs, compares with outputs.pth, fails beyond tolerance. */
class ForwardCommandTest {
  private static final Path FUSION = Path.of("tests/fixtures/mplug-official/fusion-stride2");

  @TempDir Path dir;

  private static int run(StringBuilder captured, String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      return Main.run(args);
    } finally {
      System.setOut(old);
      captured.append(buf.toString(StandardCharsets.UTF_8));
    }
  }

  @Test
  void writesEveryListedOutputAndReportsDifferences() throws Exception {
    Path out = dir.resolve("fusion.safetensors");
    StringBuilder log = new StringBuilder();
    assertEquals(0, run(log, "forward", "--fixture", FUSION.toString(), "--output", out.toString()), log.toString());
    assertTrue(log.toString().contains("fusion_text_layers") && log.toString().contains("all outputs within tolerance"),
        log.toString());
    try (StateDict written = SafeTensors.read(out); StateDict expected = TorchCheckpoint.readStateDict(
        FUSION.resolve("outputs.pth"))) {
      assertEquals(expected.keys().stream().sorted().toList(), written.keys().stream().sorted().toList());
      for (String k : expected.keys()) {
        assertArrayEquals(Tensors.shape(expected.get(k)), Tensors.shape(written.get(k)), k);
        assertEquals(expected.get(k).scalar_type().value, written.get(k).scalar_type().value, k);
      }
    }
  }

  @Test
  void exitsNonZeroBeyondToleranceAndWithoutReferenceJustWrites() throws Exception {
    StringBuilder log = new StringBuilder();
    assertEquals(1, run(log, "forward", "--fixture", FUSION.toString(), "--atol", "1e-9", "--rtol", "0"),
        log.toString());
    assertTrue(log.toString().contains("NOT OK") && log.toString().contains("BEYOND TOLERANCE"), log.toString());

    // a folder of the same layout without outputs.pth: outputs are written, nothing compared
    Path copy = dir.resolve("no-reference");
    Files.createDirectories(copy);
    for (String f : new String[] {"config.json", "model.pth", "inputs.pth"}) {
      Files.copy(FUSION.resolve(f), copy.resolve(f));
    }
    StringBuilder log2 = new StringBuilder();
    Path out = dir.resolve("out.safetensors");
    assertEquals(0, run(log2, "forward", "--fixture", copy.toString(), "--output", out.toString()), log2.toString());
    assertTrue(log2.toString().contains("no outputs.pth") && Files.size(out) > 0, log2.toString());
  }

  @Test
  void aMissingFolderIsAClearError() {
    StringBuilder log = new StringBuilder();
    assertEquals(2, run(log, "forward", "--fixture", dir.resolve("absent").toString()));
  }
}
