package dev.mplug.data.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The loader settings built by name: documented defaults, each wither changing only its fields, validation. */
class LoaderConfigTest {
  @Test
  void defaultsAndWithers() {
    LoaderConfig c = LoaderConfig.of(8);
    assertEquals(new LoaderConfig(8, true, 0, 0, 1, false, 2, 4, 0.01, 1000, 16), c);
    LoaderConfig d = c.withShuffle(false, 5).withRank(1, 3).withDropLast(true).withWorkers(0, 1)
        .withBadSamples(0.5, 100).withReplacementTries(2);
    assertEquals(new LoaderConfig(8, false, 5, 1, 3, true, 0, 1, 0.5, 100, 2), d);
  }

  @Test
  void invalidValuesAreNamed() {
    var e = assertThrows(IllegalArgumentException.class, () -> LoaderConfig.of(8).withRank(3, 3));
    assertTrue(e.getMessage().startsWith("rank must be in [0, worldSize=3)"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LoaderConfig.of(8).withReplacementTries(0));
    assertTrue(e.getMessage().startsWith("maxReplacementTries"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LoaderConfig.of(8).withBadSamples(Double.NaN, 0));
    assertTrue(e.getMessage().startsWith("maxBadFraction"), e.getMessage());
  }
}
