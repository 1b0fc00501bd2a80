package dev.mplug.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.LongStream;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Reading the official fixtures' torch.save files: key counts, dtypes, shapes, tied keys and known values. */
@SuppressWarnings("try") // tensor scopes free memory by being open
class TorchCheckpointTest {

  @ParameterizedTest
  @ValueSource(strings = {"vqa-base-stride3", "retrieval-large-stride6", "caption-base", "fusion-stride2"})
  void readsEveryKeyOfTheOfficialCheckpoints(String name) throws Exception {
    JsonNode ckpt = Fixtures.config(name).get("checkpoint");
    try (TensorScope scope = TensorScope.open();
        StateDict sd = TorchCheckpoint.readStateDict(Fixtures.dir(name).resolve("model.pth"))) {
      assertEquals(ckpt.get("keys").asInt(), sd.size(), "key count");
      for (String key : sd.keys()) {
        Tensor t = sd.get(key);
        boolean buffer = key.endsWith("position_ids") || key.equals("idx_queue") || key.equals("queue_ptr");
        assertEquals(buffer ? DType.I64 : DType.F32, DType.of(t, key), key + " dtype");
        assertTrue(t.is_contiguous(), key + " contiguous");
      }
      // position_ids buffers hold 0..max-1
      int max = Fixtures.config(name).get("text").get("max_position_embeddings").asInt();
      for (String key : sd.keys()) {
        if (!key.endsWith("position_ids")) continue;
        assertArrayEquals(new long[] {1, max}, Tensors.shape(sd.get(key)), key);
        assertArrayEquals(LongStream.range(0, max).toArray(), Tensors.toLongs(sd.get(key)), key);
      }
    }
  }

  @Test
  void tiedKeysLoadBothAndOwnTheirMemory() throws Exception {
    try (TensorScope scope = TensorScope.open();
        StateDict sd = TorchCheckpoint.readStateDict(Fixtures.dir("vqa-base-stride3").resolve("model.pth"))) {
      Tensor decoder = sd.get("text_decoder.cls.predictions.decoder.weight");
      Tensor words = sd.get("text_decoder.bert.embeddings.word_embeddings.weight");
      assertArrayEquals(new long[] {512, 64}, Tensors.shape(decoder));
      assertTrue(decoder.equal(words), "tied decoder weight = word embeddings");
      assertTrue(sd.get("text_decoder.cls.predictions.decoder.bias").equal(sd.get("text_decoder.cls.predictions.bias")));
      // own memory: writing one leaves the other alone
      double before = words.abs().sum().item_double();
      decoder.fill_(new Scalar(0.0));
      assertEquals(before, words.abs().sum().item_double(), 0.0);
      assertTrue(before > 0);
      // the fixture's generator raised the [SEP] logit bias by 4
      float[] bias = Tensors.toFloats(sd.get("text_decoder.cls.predictions.bias"));
      assertTrue(bias[102] > 3.0, "[SEP] bias " + bias[102]);
    }
  }

  @Test
  void zeroDimTemperatureAndInt64Queues() throws Exception {
    JsonNode cfg = Fixtures.config("retrieval-large-stride6");
    try (TensorScope scope = TensorScope.open();
        StateDict sd = TorchCheckpoint.readStateDict(Fixtures.dir("retrieval-large-stride6").resolve("model.pth"))) {
      Tensor temp = sd.get("temp");
      assertEquals(0, temp.dim());
      assertEquals(cfg.get("temp").asDouble(), temp.item_double(), 1e-6);
      assertEquals(0, sd.get("visual_encoder.logit_scale").dim());
      assertEquals(DType.I64, DType.of(sd.get("idx_queue"), "idx_queue"));
      assertEquals(DType.I64, DType.of(sd.get("queue_ptr"), "queue_ptr"));
      int embed = cfg.get("embed_dim").asInt(), queue = cfg.get("queue_size").asInt();
      assertArrayEquals(new long[] {embed, queue}, Tensors.shape(sd.get("image_queue")));
      // momentum twins differ from the online weights
      assertNotEquals(0.0, sd.get("visual_encoder.visual.conv1.weight")
          .sub(sd.get("visual_encoder_m.visual.conv1.weight")).abs().max().item_double());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"vqa-base-stride3", "retrieval-large-stride6", "caption-base", "fusion-stride2"})
  void inputsAndOutputsMatchTheirDeclaredShapesAndDtypes(String name) throws Exception {
    JsonNode cfg = Fixtures.config(name);
    for (String file : new String[] {"inputs", "outputs"}) {
      try (TensorScope scope = TensorScope.open()) {
        Object tree = TorchCheckpoint.read(Fixtures.dir(name).resolve(file + ".pth"));
        Map<?, ?> map = assertInstanceOf(Map.class, tree);
        JsonNode declared = cfg.get(file);
        assertEquals(declared.size(), map.size(), file + " entries");
        for (var it = declared.properties().iterator(); it.hasNext(); ) {
          var e = it.next();
          Tensor t = assertInstanceOf(Tensor.class, map.get(e.getKey()), e.getKey());
          assertArrayEquals(Fixtures.shape(e.getValue().get("shape")), Tensors.shape(t), e.getKey());
          DType want = e.getValue().get("dtype").asText().equals("int64") ? DType.I64 : DType.F32;
          assertEquals(want, DType.of(t, e.getKey()), e.getKey());
        }
      }
    }
  }

  @Test
  void inputValuesFollowTheFixtureConventions() throws Exception {
    try (TensorScope scope = TensorScope.open()) {
      Map<?, ?> in = (Map<?, ?>) TorchCheckpoint.read(Fixtures.dir("vqa-base-stride3").resolve("inputs.pth"));
      long[] ids = Tensors.toLongs((Tensor) in.get("question_ids"));
      long[] mask = Tensors.toLongs((Tensor) in.get("question_mask"));
      int t = 8;
      for (int b = 0; b < 3; b++) {
        assertEquals(101, ids[b * t], "row " + b + " starts with [CLS]");
        for (int i = 0; i < t; i++) {
          assertTrue(mask[b * t + i] == 0 || mask[b * t + i] == 1);
          if (mask[b * t + i] == 0) assertEquals(0, ids[b * t + i], "padding id");
        }
      }
      assertTrue(LongStream.of(ids).limit(t).anyMatch(v -> v == 511), "row 0 holds vocab_size - 1");
      long[] k = Tensors.toLongs((Tensor) in.get("answer_k"));
      assertEquals(5, LongStream.of(k).sum(), "answers per question sum to Na");
    }
  }

  @Test
  void pathIsNamedInTheStateDict() throws Exception {
    Path p = Fixtures.dir("fusion-stride2").resolve("model.pth");
    try (TensorScope scope = TensorScope.open(); StateDict sd = TorchCheckpoint.readStateDict(p)) {
      assertEquals(p.toString(), sd.origin());
      assertEquals("embeddings.position_ids", sd.keys().get(0));
      assertTrue(sd.metadata().isEmpty());
    }
  }
}
