package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.train.Batches;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training stream: canvas boxes to decoder targets, and a batch of the shapes world. */
class GroundingDataTest {
  @TempDir Path tmp;

  @Test
  void pixelBoxesBecomeCentreSizeOverTheCanvas() {
    try (TensorScope _ = TensorScope.open()) {
      float[] t = Tensors.toFloats(GroundingData.targets(Tensors.floats(new float[] {10, 20, 30, 40}, 1, 4), 100));
      assertArrayEquals(new float[] {0.25f, 0.4f, 0.3f, 0.4f}, t, 1e-7f);
    }
  }

  @Test
  void aBatchHoldsTheAnnotatedBoxesOfSquareImages() throws IOException {
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(10, 0, 3, 64));
    FinetuneConfig cfg = FinetuneConfig.load("grounding-demo", List.of("data.annotations=" + world.resolve(
        SynthFiles.GROUNDING), "data.root=" + world, "data.batch_size=4", "data.workers=0", "data.augment=false",
        "model=tiny"));
    BertTokenizer tok = BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
    // without augmentation a 64 px image on the tiny model's 32 px canvas is scaled by 0.5, never moved
    Set<String> annotated = new HashSet<>();
    for (JsonNode e : new ObjectMapper().readTree(world.resolve(SynthFiles.GROUNDING).toFile())) {
      JsonNode b = e.get("bbox");
      annotated.add(String.format("%.4f %.4f %.4f %.4f", (b.get(0).asDouble() + b.get(2).asDouble() / 2) / 64,
          (b.get(1).asDouble() + b.get(3).asDouble() / 2) / 64, b.get(2).asDouble() / 64, b.get(3).asDouble() / 64));
    }
    try (TensorScope _ = TensorScope.open();
        Batches<GroundingBatch> data = GroundingData.open(cfg.data(), 32, tok, 5, 0, 1)) {
      GroundingBatch b = data.next();
      assertEquals(4, b.size());
      assertArrayEquals(new long[] {4, 3, 32, 32}, Tensors.shape(b.images()));
      assertEquals(4, b.textIds().size(0));
      float[] t = Tensors.toFloats(b.targets());
      for (int i = 0; i < 4; i++) {
        String row = String.format("%.4f %.4f %.4f %.4f", t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3]);
        assertTrue(annotated.contains(row), "target " + row + " is no annotated box");
      }
    }
  }
}
