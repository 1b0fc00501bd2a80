package dev.mplug.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Save -> load gives the same config, the same parameter values, and the same outputs. */
class MPlugCheckpointTest {
  @TempDir Path dir;

  @Test
  void roundTripKeepsConfigWeightsAndOutputs() throws Exception {
    Seeds.fresh("checkpoint round trip");
    MPlugConfig config = MPlugConfig.tiny().withParts(Part.retrieval()).plus(Part.MOMENTUM);
    MPlug model = new MPlug(config);
    model.eval();
    Path file = dir.resolve("tiny.safetensors");
    MPlugCheckpoint.save(model, file);
    assertEquals(config, MPlugCheckpoint.config(file));
    MPlug loaded = MPlugCheckpoint.load(file);
    Map<String, Tensor> a = model.namedParameters();
    Map<String, Tensor> b = loaded.namedParameters();
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) assertArrayEquals(Tensors.toFloats(a.get(k)), Tensors.toFloats(b.get(k)), 0f, k);
    try (TensorScope _ = TensorScope.open()) {
      Tensor images = torch.randn(2, 3, 32, 32);
      assertArrayEquals(Tensors.toFloats(model.visionTokens(images)), Tensors.toFloats(loaded.visionTokens(images)), 0f);
    }
  }

  @Test
  void aFileWithoutConfigIsRefusedNamingIt() throws Exception {
    Path file = dir.resolve("plain.safetensors");
    try (TensorScope _ = TensorScope.open()) {
      SafeTensors.write(file, Map.of("x", torch.zeros(2)), Map.of());
    }
    CheckpointException e = assertThrows(CheckpointException.class, () -> MPlugCheckpoint.load(file));
    assertTrue(e.getMessage().contains("plain.safetensors") && e.getMessage().contains("mplug.config"), e.getMessage());
  }
}
