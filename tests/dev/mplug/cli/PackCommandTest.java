package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.dataset.Nlvr2Sample;
import dev.mplug.data.loader.LoadedSample;
import dev.mplug.data.loader.SampleStore;
import dev.mplug.data.shard.ShardSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackCommandTest {
  @TempDir Path root;

  static CliErrorsTest.Result run(String... args) {
    return CliErrorsTest.run(args);
  }

  /** Five NLVR2 pairs over images 0..5; the last pair names a missing image. */
  Path nlvr2(Path images) throws IOException {
    Files.createDirectories(images);
    for (int i = 0; i < 5; i++) Files.write(images.resolve(i + ".png"), new byte[] {(byte) i, 1, 2, 3, (byte) (i * 9)});
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < 5; i++) {
      json.append(i == 0 ? "" : ",\n").append("{\"images\": [\"img/").append(i).append(".png\", \"img/")
          .append(i + 1).append(".png\"], \"sentence\": \"s").append(i).append("\", \"label\": \"")
          .append(i % 2 == 0 ? "True" : "False").append("\"}");
    }
    Path ann = root.resolve("nlvr2.json");
    Files.writeString(ann, json.append("]").toString());
    return ann;
  }

  @Test
  void packsRawBytesIntoShardsAndReportsBadSamples() throws IOException {
    Path ann = nlvr2(root.resolve("img"));
    Path out = root.resolve("shards");
    CliErrorsTest.Result r = run("pack", "--task", "nlvr2", "--ann", ann.toString(), "--root", root.toString(), "--out",
        out.toString(), "--records-per-shard", "3", "--max-bad-fraction", "0.5");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("packed 4 nlvr2 record(s) into 2 shard(s)"), r.out());
    assertTrue(r.out().contains("1 bad sample(s) skipped"), r.out());
    assertTrue(r.err().contains("skipped bad sample " + root.resolve("img/5.png") + ": missing file"), r.err());
    try (ShardSet shards = ShardSet.open(out)) {
      assertEquals(4, shards.size());
      assertEquals(2, shards.shards().size());
      SampleStore store = SampleStore.of(shards);
      for (int i = 0; i < 4; i++) {
        LoadedSample s = store.load(i);
        Nlvr2Sample n = (Nlvr2Sample) s.sample();
        assertEquals("s" + i, n.sentence());
        assertEquals(i % 2 == 0, n.label());
        assertArrayEquals(Files.readAllBytes(root.resolve("img/" + i + ".png")), s.media().get(0).bytes());
        assertArrayEquals(Files.readAllBytes(root.resolve("img/" + (i + 1) + ".png")), s.media().get(1).bytes());
      }
      assertEquals(ann + ":2", shards.get(1).getSource());
    }
  }

  @Test
  void failsWhenTooManySamplesAreBadAndRefusesToOverwrite() throws IOException {
    Path ann = nlvr2(root.resolve("img"));
    Path out = root.resolve("shards");
    CliErrorsTest.Result strict = run("pack", "--task", "nlvr2", "--ann", ann.toString(), "--root", root.toString(), "--out",
        out.toString(), "--max-bad-fraction", "0.1");
    assertEquals(2, strict.code());
    assertTrue(strict.err().contains("1 of 5 samples (20.0%) were bad"), strict.err());
    CliErrorsTest.Result again = run("pack", "--task", "nlvr2", "--ann", ann.toString(), "--root", root.toString(), "--out",
        out.toString());
    assertEquals(2, again.code());
    assertTrue(again.err().contains("already holds shards"), again.err());
    CliErrorsTest.Result unknown = run("pack", "--task", "dance", "--ann", ann.toString(), "--root", root.toString(), "--out",
        root.resolve("o2").toString());
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("unknown task \"dance\""), unknown.err());
  }
}
