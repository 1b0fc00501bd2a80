package dev.mplug.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The small files of tests/resources/io (written once by generate.py with torch 1.13): dtypes, views, wrappers. */
@SuppressWarnings("try") // tensor scopes free memory by being open
class TorchCheckpointFormatsTest {
  static Path resource(String name) {
    return Path.of("tests", "resources", "io", name);
  }

  @Test
  void everyDtypeKeepsItsTypeAndValues() throws Exception {
    float[] expected = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
    try (TensorScope s = TensorScope.open(); StateDict sd = TorchCheckpoint.readStateDict(resource("dtypes.pt"))) {
      Map<String, DType> types = Map.of("f32", DType.F32, "f64", DType.F64, "f16", DType.F16, "bf16", DType.BF16);
      types.forEach((key, type) -> {
        assertEquals(type, DType.of(sd.get(key), key));
        assertArrayEquals(new long[] {2, 3}, Tensors.shape(sd.get(key)), key);
        assertArrayEquals(expected, Tensors.toFloats(sd.get(key)), key);
      });
      assertEquals(DType.I64, DType.of(sd.get("i64"), "i64"));
      assertArrayEquals(new long[] {-3, 1L << 40, 7}, Tensors.toLongs(sd.get("i64")));
      assertEquals(DType.I32, DType.of(sd.get("i32"), "i32"));
      assertArrayEquals(new long[] {-5, 6}, Tensors.toLongs(sd.get("i32")));
      assertEquals(DType.I16, DType.of(sd.get("i16"), "i16"));
      assertArrayEquals(new long[] {-300, 301}, Tensors.toLongs(sd.get("i16")));
      assertEquals(DType.I8, DType.of(sd.get("i8"), "i8"));
      assertArrayEquals(new long[] {-7, 8}, Tensors.toLongs(sd.get("i8")));
      assertEquals(DType.U8, DType.of(sd.get("u8"), "u8"));
      assertArrayEquals(new long[] {0, 255}, Tensors.toLongs(sd.get("u8")));
      assertEquals(DType.BOOL, DType.of(sd.get("bool"), "bool"));
      assertArrayEquals(new long[] {1, 0, 1}, Tensors.toLongs(sd.get("bool")));
      assertEquals(0, sd.get("scalar").dim());
      assertEquals(3.5, sd.get("scalar").item_double());
      assertArrayEquals(new long[] {0, 3}, Tensors.shape(sd.get("empty")));
    }
  }

  @Test
  void stridedViewsOfOneStorage() throws Exception {
    try (TensorScope s = TensorScope.open()) {
      Map<?, ?> root = assertInstanceOf(Map.class, TorchCheckpoint.read(resource("views.pt")));
      Map<?, ?> t = assertInstanceOf(Map.class, root.get("tensors"));
      // base[r][c] = 6r + c
      assertArrayEquals(new long[] {4, 6}, Tensors.shape((Tensor) t.get("base")));
      Tensor tr = (Tensor) t.get("transposed");
      assertArrayEquals(new long[] {6, 4}, Tensors.shape(tr));
      assertEquals(6 * 3 + 5, tr.get(5).get(3).item_double()); // transposed[5][3] = base[3][5]
      assertArrayEquals(new float[] {12, 13, 14, 15, 16, 17}, Tensors.toFloats((Tensor) t.get("row2")));
      assertArrayEquals(new float[] {1, 7, 13, 19}, Tensors.toFloats((Tensor) t.get("col1")));
      assertArrayEquals(new float[] {8, 9, 10, 14, 15, 16}, Tensors.toFloats((Tensor) t.get("block")));
      for (Object v : t.values()) assertTrue(((Tensor) v).is_contiguous());

      Map<?, ?> meta = assertInstanceOf(Map.class, root.get("meta"));
      assertEquals(3L, meta.get("epoch"));
      assertEquals(1e-4, meta.get("lr"));
      assertEquals("views", meta.get("name"));
      List<?> flags = assertInstanceOf(List.class, meta.get("flags"));
      assertEquals(Boolean.TRUE, flags.get(0));
      assertNull(flags.get(1));
      assertEquals(List.of(1L, -2L), meta.get("pair"));
      assertEquals(BigInteger.TWO.pow(70), meta.get("big"));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"deepspeed_module.pt", "state_dict_wrapper.pt", "bare_state_dict.pt", "legacy_format.pt"})
  void stateDictIsFoundInsideTheUsualWrappers(String file) throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict sd = TorchCheckpoint.readStateDict(resource(file))) {
      assertEquals(List.of("weight", "bias"), sd.keys());
      assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, Tensors.toFloats(sd.get("weight")));
      assertArrayEquals(new long[] {2, 3}, Tensors.shape(sd.get("weight")));
      assertArrayEquals(new float[] {0.5f, -0.5f}, Tensors.toFloats(sd.get("bias")));
    }
  }

  /** Hugging Face's bert-base-uncased pytorch_model.bin predates the zip format: the same tensors in both. */
  @Test
  void legacyFormatHoldsTheSameTensorsAsTheZipFormat() throws Exception {
    try (TensorScope s = TensorScope.open();
        StateDict zip = TorchCheckpoint.readStateDict(resource("bert_tiny.bin"));
        StateDict legacy = TorchCheckpoint.readStateDict(resource("bert_tiny_legacy.bin"))) {
      assertEquals(zip.keys(), legacy.keys());
      for (String k : zip.keys()) assertTrue(zip.get(k).equal(legacy.get(k)), k);
      assertTrue(legacy.get("cls.predictions.decoder.weight").equal(legacy.get("bert.embeddings.word_embeddings.weight")));
    }
  }

  @Test
  void parametersLoadAsTheirData() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict sd = TorchCheckpoint.readStateDict(resource("parameter.pt"))) {
      assertArrayEquals(new float[] {1, 2}, Tensors.toFloats(sd.get("w")));
      assertTrue(!sd.get("w").requires_grad(), "loaded tensors are plain values");
    }
  }

  @Test
  void storagesLargerThanOneReadChunkArriveWhole(@TempDir Path dir) throws Exception {
    int n = 700_000; // 2.8 MB: three 1 MiB chunks
    float[] values = new float[n];
    for (int i = 0; i < n; i++) values[i] = i * 0.5f;
    byte[] pkl = PickleBytes.protocol(2).orderedDict().mark().str("big")
        .tensor("FloatStorage", "0", n, 0, new long[] {n / 2, 2}, new long[] {2, 1}).op('u').stop().bytes();
    Path f = PickleBytes.zip(dir.resolve("big.pt"), "big", Map.of("data.pkl", pkl, "data/0", PickleBytes.floats(values)));
    try (TensorScope s = TensorScope.open(); StateDict sd = TorchCheckpoint.readStateDict(f)) {
      assertArrayEquals(values, Tensors.toFloats(sd.get("big")));
    }
  }

  @Test
  void checkpointFilesTellTheFormatsApartByContent(@TempDir Path dir) throws Exception {
    try (TensorScope s = TensorScope.open()) {
      Path st = dir.resolve("weights.bin"); // safetensors under a misleading name
      SafeTensors.write(st, Map.of("w", Tensors.floats(new float[] {4f, 5f}, 2)), Map.of());
      try (StateDict a = CheckpointFiles.read(st);
          StateDict b = CheckpointFiles.read(resource("bert_tiny_legacy.bin"));
          StateDict c = CheckpointFiles.read(resource("bare_state_dict.pt"))) {
        assertArrayEquals(new float[] {4f, 5f}, Tensors.toFloats(a.get("w")));
        assertEquals(79, b.size()); // 5 embedding + 4 x 16 layer + 2 pooler + 8 head tensors
        assertEquals(List.of("weight", "bias"), c.keys());
      }
    }
  }

  @Test
  void closingAStateDictInsideAScopeIsSafe() throws Exception {
    try (TensorScope s = TensorScope.open()) {
      StateDict sd = TorchCheckpoint.readStateDict(resource("bare_state_dict.pt"));
      sd.close(); // the scope releases them again at its end: must be harmless
    }
    StateDict outside = TorchCheckpoint.readStateDict(resource("bare_state_dict.pt"));
    assertEquals(2, outside.size());
    outside.close();
  }
}
