package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {
  @Test
  void warmsUpLinearlyThenFollowsTheCosine() {
    var s = new LearningRateSchedule(1e-4, 1e-6, 100, 1100, 1e-6);
    assertEquals(1e-6, s.at(0), 1e-15);
    assertEquals(1e-6 + (1e-4 - 1e-6) * 0.5, s.at(50), 1e-15);
    assertEquals(1e-4, s.at(100), 1e-15);
    assertEquals(1e-6 + 0.5 * (1e-4 - 1e-6), s.at(600), 1e-15);   // half-way through the cosine
    assertEquals(1e-6, s.at(1100), 1e-15);
    assertEquals(1e-6, s.at(5000), 1e-15);                         // stays at the floor
  }

  @Test
  void rejectsImpossibleSettings() {
    assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(0, 0, 0, 10, 0));
    assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-4, 0, -1, 10, 0));
    assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-4, 0, 0, 0, 0));
  }
}
