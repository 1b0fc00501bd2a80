package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.loss.Distillation;
import dev.mplug.loss.ItmNegatives;
import org.junit.jupiter.api.Test;

/** The pretraining objectives built by name: official defaults, validation, a round trip. */
class ObjectivesTest {
  @Test
  void builderDefaultsAreTheOfficialValues() {
    assertEquals(new Objectives(true, true, true, true, 0.4, 0, 0.995, 65536, 0.15, Distillation.Axis.VOCABULARY,
        1.0, MaskedVisionSettings.OFF, ItmNegatives.Choice.HARD), Objectives.builder().build());
    assertEquals(Objectives.builder().build(), Objectives.official());
  }

  @Test
  void namedValuesLandInTheirFields() {
    Objectives o = Objectives.builder().itc(false).itm(false).mlm(true).prefixLm(false).alpha(0.2).alphaRampSteps(9)
        .momentum(0.9).queueSize(8).maskProbability(0.5).distillAxis(Distillation.Axis.OFFICIAL_SEQUENCE)
        .tempLrScale(0.1).itmNegatives(ItmNegatives.Choice.RANDOM).build();
    assertEquals(new Objectives(false, false, true, false, 0.2, 9, 0.9, 8, 0.5,
        Distillation.Axis.OFFICIAL_SEQUENCE, 0.1, MaskedVisionSettings.OFF, ItmNegatives.Choice.RANDOM), o);
    assertEquals(o, o.toBuilder().build());
  }

  @Test
  void invalidValuesNameTheirKey() {
    var e = assertThrows(IllegalArgumentException.class, () -> Objectives.builder().alpha(Double.NaN).build());
    assertTrue(e.getMessage().startsWith("objectives.alpha"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Objectives.builder().maskProbability(1).build());
    assertTrue(e.getMessage().startsWith("objectives.mask_prob"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Objectives.builder().itc(false).itm(false).mlm(false).prefixLm(false).build());
    assertTrue(e.getMessage().contains("enable at least one"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ItmNegatives.Choice.of("easy"));
    assertEquals("objectives.itm_negatives = \"easy\": use hard or random", e.getMessage());
    assertEquals(ItmNegatives.Choice.RANDOM, ItmNegatives.Choice.of("random"));
  }
}
