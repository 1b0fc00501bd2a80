package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Where each rank of a multi-process run writes its trace. */
class ProfileOptionTest {
  @Test
  void theRankGoesBeforeTheExtension() {
    assertEquals(Path.of("runs/trace.rank1.json"), ProfileOption.forRank(Path.of("runs/trace.json"), 1));
    assertEquals(Path.of("runs/a.b.rank0.json"), ProfileOption.forRank(Path.of("runs/a.b.json"), 0));
    assertEquals(Path.of("trace.rank3"), ProfileOption.forRank(Path.of("trace"), 3));
    assertEquals(Path.of(".trace.rank2"), ProfileOption.forRank(Path.of(".trace"), 2));
  }
}
