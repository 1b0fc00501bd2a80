package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The trainer settings built by name: documented defaults, validation naming the key, a round trip. */
class TrainerConfigTest {
  @Test
  void builderDefaultsAreTheOfficialBaseValues() {
    TrainerConfig c = TrainerConfig.builder(10_000).build();
    assertEquals(new TrainerConfig(10_000, 2000, 1e-4, 1e-5, 1e-6, 1e-6, 0.02, 0, 1, "fp32", 50, 1000, 3, 10, 42, 25,
        true, 0, "auto", "none", "cpu"), c);
    assertEquals(c, TrainerConfig.official(10_000));
    assertEquals(500, TrainerConfig.builder(500).build().warmupSteps(), "warmup never longer than the run");
  }

  @Test
  void namedValuesLandInTheirFields() {
    TrainerConfig c = TrainerConfig.builder(8).warmupSteps(2).lr(0.05).visualLr(0.02).warmupLr(1e-3).minLr(2e-3)
        .weightDecay(0.01).clipNorm(1.0).accumulation(2).precision("bf16").logEvery(3).checkpointEvery(4)
        .keepLast(5).maxNonFiniteInARow(6).seed(7).bucketMb(8).findUnusedParameters(false).zeroStage(1)
        .attention("composite").activationCheckpointing("vit,fusion").device("cuda:1").build();
    assertEquals(new TrainerConfig(8, 2, 0.05, 0.02, 1e-3, 2e-3, 0.01, 1.0, 2, "bf16", 3, 4, 5, 6, 7, 8, false, 1,
        "composite", "vit,fusion", "cuda:1"), c);
    assertEquals(c, c.toBuilder().build());
    assertEquals(9, c.toBuilder().totalSteps(9).build().totalSteps());
  }

  @Test
  void invalidValuesNameTheirKey() {
    var e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.builder(10).warmupSteps(20).build());
    assertTrue(e.getMessage().startsWith("warmup_steps = 20 is invalid"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.builder(10).precision("fp16").build());
    assertTrue(e.getMessage().startsWith("precision = fp16 is invalid"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.builder(10).precision(null).build());
    assertTrue(e.getMessage().startsWith("precision = null is invalid"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.builder(10).attention("flash").build());
    assertEquals("attention = flash is invalid: must be auto, fused or composite", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.builder(0).build());
    assertTrue(e.getMessage().startsWith("total_steps = 0 is invalid"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.builder(10).zeroStage(2).build());
    assertEquals("zero_stage = 2 is invalid: must be 0 or 1", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.builder(10).bucketMb(0).build());
    assertEquals("ddp_bucket_mb = 0 is invalid: must be >= 1", e.getMessage());
  }
}
