package dev.mplug.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@SuppressWarnings("try") // tensor scopes free memory by being open
class SafeTensorsTest {
  @TempDir Path dir;

  /** A tensor of {@code dtype} holding small values every dtype represents exactly. */
  private static Tensor sample(DType dtype) {
    return switch (dtype.kind()) {
      case FLOAT -> Tensors.floats(new float[] {-1.5f, 0f, 0.25f, 2f, 3.5f, -4f}, 2, 3).to(dtype.scalarType());
      case INTEGER -> Tensors.longs(dtype == DType.U8 ? new long[] {0, 1, 2, 200, 254, 255}
          : new long[] {-100, -1, 0, 1, 7, 100}, 3, 2).to(dtype.scalarType());
      case BOOL -> Tensors.longs(new long[] {1, 0, 0, 1}, 4).to(dtype.scalarType());
    };
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void roundTripsEveryDtype(DType dtype) throws Exception {
    Path f = dir.resolve(dtype + ".safetensors");
    try (TensorScope s = TensorScope.open()) {
      Tensor t = sample(dtype);
      SafeTensors.write(f, Map.of("x", t), Map.of("format", "pt", "dtype", dtype.name()));
      try (StateDict sd = SafeTensors.read(f)) {
        Tensor back = sd.get("x");
        assertEquals(dtype, DType.of(back, "x"));
        assertArrayEquals(Tensors.shape(t), Tensors.shape(back));
        assertTrue(t.equal(back), dtype + " values");
        assertEquals(Map.of("format", "pt", "dtype", dtype.name()), sd.metadata());
      }
      assertEquals(Map.of("format", "pt", "dtype", dtype.name()), SafeTensors.metadata(f));
    }
  }

  @Test
  void layoutFollowsTheSpecByteForByte() throws Exception {
    Path f = dir.resolve("known.safetensors");
    try (TensorScope s = TensorScope.open()) {
      SafeTensors.write(f, Map.of("a", Tensors.floats(new float[] {1f, 2f}, 2)), Map.of());
    }
    byte[] bytes = Files.readAllBytes(f);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long n = b.getLong();
    assertEquals(0, (8 + n) % 8, "data section aligned to 8 bytes");
    String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8).strip();
    assertEquals("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", json);
    // 1.0f = 0x3f800000, 2.0f = 0x40000000, little-endian
    assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40},
        Arrays.copyOfRange(bytes, (int) (8 + n), bytes.length));
  }

  /**
   * Identical contents give identical bytes whatever order the maps iterate in: metadata first with sorted keys, then
   * the tensors in a sequenced map's order, or by name for an unordered map (Map.of differs between processes).
   */
  @Test
  void identicalContentsGiveIdenticalBytes() throws Exception {
    Path f1 = dir.resolve("one.safetensors");
    Path f2 = dir.resolve("two.safetensors");
    Path f3 = dir.resolve("three.safetensors");
    try (TensorScope s = TensorScope.open()) {
      Tensor x = Tensors.floats(new float[] {1f}, 1);
      Tensor y = Tensors.floats(new float[] {2f}, 1);
      Map<String, String> ab = new LinkedHashMap<>();
      ab.put("step", "7");
      ab.put("format", "mplug-java");
      Map<String, String> ba = new LinkedHashMap<>();
      ba.put("format", "mplug-java");
      ba.put("step", "7");
      Map<String, Tensor> yx = new HashMap<>(Map.of("y", y, "x", x));
      SafeTensors.write(f1, yx, ab);
      SafeTensors.write(f2, Map.of("x", x, "y", y), ba);
      Map<String, Tensor> ordered = new LinkedHashMap<>();
      ordered.put("y", y);
      ordered.put("x", x);
      SafeTensors.write(f3, ordered, ba);
    }
    byte[] one = Files.readAllBytes(f1);
    assertArrayEquals(one, Files.readAllBytes(f2));
    String header = new String(one, 8, 128, StandardCharsets.UTF_8);
    assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"mplug-java\",\"step\":\"7\"},"
        + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"y\":"), header);
    String sequenced = new String(Files.readAllBytes(f3), 8, 128, StandardCharsets.UTF_8);
    assertTrue(sequenced.contains("},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"x\":"),
        "a LinkedHashMap keeps its order: " + sequenced);
  }

  /** A file written by hand from the spec: header order differs from data order, metadata first. */
  @Test
  void readsAHandWrittenFile() throws Exception {
    byte[] data = ByteBuffer.allocate(8 + 12).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(-7L).putFloat(0.5f).putFloat(1.5f).putFloat(-2f).array();
    Path f = file("{\"__metadata__\":{\"k\":\"v\"},\"floats\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]},"
        + "\"id\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}", data);
    try (TensorScope s = TensorScope.open(); StateDict sd = SafeTensors.read(f)) {
      assertEquals(List.of("floats", "id"), sd.keys());
      assertArrayEquals(new float[] {0.5f, 1.5f, -2f}, Tensors.toFloats(sd.get("floats")));
      assertEquals(0, sd.get("id").dim());
      assertEquals(-7L, sd.get("id").item_long());
      assertEquals(Map.of("k", "v"), sd.metadata());
    }
  }

  @Test
  void writesStridedAndEmptyTensorsAndOrder() throws Exception {
    Path f = dir.resolve("mixed.safetensors");
    try (TensorScope s = TensorScope.open()) {
      Tensor base = Tensors.floats(new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("z.transposed", base.t());
      m.put("a.empty", torch.zeros(0, 4));
      m.put("m.scalar", Tensors.floats(new float[] {9f}).reshape());
      SafeTensors.write(f, m, Map.of());
      try (StateDict sd = SafeTensors.read(f)) {
        assertEquals(List.of("z.transposed", "a.empty", "m.scalar"), sd.keys());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, Tensors.toFloats(sd.get("z.transposed")));
        assertArrayEquals(new long[] {0, 4}, Tensors.shape(sd.get("a.empty")));
        assertEquals(9.0, sd.get("m.scalar").item_double());
      }
    }
  }

  @Test
  void writeReplacesAtomicallyAndLeavesNoTemporaryFiles() throws Exception {
    Path f = dir.resolve("w.safetensors");
    try (TensorScope s = TensorScope.open()) {
      SafeTensors.write(f, Map.of("v", Tensors.floats(new float[] {1f}, 1)), Map.of());
      SafeTensors.write(f, Map.of("v", Tensors.floats(new float[] {2f}, 1)), Map.of());
      try (StateDict sd = SafeTensors.read(f)) {
        assertEquals(2.0, sd.get("v").item_double());
      }
      Tensor complex = torch.zeros(2).to(torch.ScalarType.ComplexFloat);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SafeTensors.write(f, Map.of("c", complex), Map.of()));
      assertTrue(e.getMessage().contains("'c'") && e.getMessage().contains("not supported"), e.getMessage());
      try (StateDict sd = SafeTensors.read(f)) {
        assertEquals(2.0, sd.get("v").item_double(), "a failed write leaves the old file");
      }
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(f), files.toList(), "no temporary files left");
    }
  }

  // ---- bad files -------------------------------------------------------------------------------------------------

  private Path file(String header, byte[] data) throws Exception {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
    out.writeBytes(h);
    out.writeBytes(data);
    return Files.write(Files.createTempFile(dir, "bad", ".safetensors"), out.toByteArray());
  }

  private static void fails(Path f, String... parts) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> {
      try (TensorScope s = TensorScope.open(); StateDict sd = SafeTensors.read(f)) {
        throw new AssertionError("loaded " + sd);
      }
    });
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
  }

  private static String one(String dtype, String shape, String offsets) {
    return "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
  }

  @Test
  void tooShort() throws Exception {
    fails(Files.write(dir.resolve("s"), new byte[] {1, 2, 3}), "too short");
    fails(Files.write(dir.resolve("z"), new byte[0]), "too short");
  }

  @Test
  void headerLengthBeyondTheFile() throws Exception {
    byte[] b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array();
    fails(Files.write(dir.resolve("h"), b), "header length 1000 does not fit a 16-byte file");
  }

  @Test
  void headerNotJson() throws Exception {
    fails(file("{not json", new byte[0]), "not valid JSON");
    fails(file("[1, 2]", new byte[0]), "not a JSON object");
  }

  @Test
  void unknownDtype() throws Exception {
    fails(file(one("C64", "[1]", "[0,8]"), new byte[8]), "key 't'", "unsupported dtype 'C64'", "BF16");
    fails(file(one("F8_E4M3", "[1]", "[0,1]"), new byte[1]), "unsupported dtype 'F8_E4M3'");
  }

  @Test
  void badShapesAndOffsets() throws Exception {
    fails(file(one("F32", "[-1]", "[0,4]"), new byte[4]), "key 't'", "not a list of integers >= 0");
    fails(file(one("F32", "[2]", "[0,4]"), new byte[4]), "key 't'", "span 4 bytes", "needs 8");
    fails(file(one("F32", "[2]", "[0,8]"), new byte[4]), "key 't'", "outside the 4-byte data section");
    fails(file(one("F32", "[1]", "[4,0]"), new byte[4]), "key 't'", "outside");
    fails(file(one("F32", "[1]", "[0]"), new byte[4]), "key 't'", "data_offsets must be [begin, end]");
    fails(file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "data_offsets must be");
    fails(file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", new byte[4]),
        "unknown header field 'x'");
  }

  @Test
  void overlapsGapsAndTrailingBytes() throws Exception {
    String two = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%d,%d]}}";
    fails(file(String.format(two, 4, 12), new byte[12]), "key 'b'", "overlap those of 'a'");
    fails(file(String.format(two, 12, 20), new byte[20]), "key 'b'", "leaving bytes [8, 12) unassigned");
    fails(file(one("F32", "[1]", "[0,4]"), new byte[8]), "describes 4 bytes", "holds 8 (trailing bytes)");
  }

  @Test
  void truncatedFile() throws Exception {
    Path f = dir.resolve("t.safetensors");
    try (TensorScope s = TensorScope.open()) {
      SafeTensors.write(f, Map.of("a", torch.zeros(100)), Map.of());
    }
    byte[] b = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(b, b.length - 10));
    fails(f, "key 'a'", "outside", "truncated");
  }

  @Test
  void duplicateKeysAndBadMetadata() throws Exception {
    fails(file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "Duplicate field 't'");
    fails(file("{\"__metadata__\":{\"k\":3}}", new byte[0]), "key '__metadata__'", "'k' is not a string");
  }
}
