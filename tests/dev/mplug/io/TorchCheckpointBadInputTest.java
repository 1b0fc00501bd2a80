package dev.mplug.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every kind of bad file fails with a message naming the file (and the key where there is one). */
@SuppressWarnings("try") // tensor scopes free memory by being open
class TorchCheckpointBadInputTest {
  @TempDir Path dir;

  private CheckpointException fails(Path file) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> {
      try (TensorScope scope = TensorScope.open(); StateDict sd = TorchCheckpoint.readStateDict(file)) {
        throw new AssertionError("loaded " + sd);
      }
    });
    assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
    assertEquals(file, e.file());
    return e;
  }

  private static void assertMentions(Exception e, String... parts) {
    for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
  }

  /** A valid one-tensor checkpoint {'model': {'w': float32[4]}} with the given storage bytes. */
  private Path oneTensor(String name, String storageType, long numel, long[] size, byte[] data) throws Exception {
    byte[] pkl = PickleBytes.protocol(2).emptyDict().str("model").orderedDict().mark()
        .str("w").tensor(storageType, "0", numel, 0, size, new long[] {1}).setItems().setItem().stop().bytes();
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("data.pkl", pkl);
    if (data != null) entries.put("data/0", data);
    entries.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
    return PickleBytes.zip(dir.resolve(name), "archive", entries);
  }

  @Test
  void craftedValidFileLoads() throws Exception {
    Path f = oneTensor("ok.pt", "FloatStorage", 4, new long[] {4}, PickleBytes.floats(1, 2, 3, 4));
    try (TensorScope s = TensorScope.open(); StateDict sd = TorchCheckpoint.readStateDict(f)) {
      assertTrue(Arrays.equals(new float[] {1, 2, 3, 4}, Tensors.toFloats(sd.get("w"))));
    }
  }

  @Test
  void zeroByteFile() throws Exception {
    Path f = Files.write(dir.resolve("empty.pth"), new byte[0]);
    assertMentions(fails(f), "empty (0 bytes)");
  }

  @Test
  void notAZipFile() throws Exception {
    Path f = Files.writeString(dir.resolve("notes.pth"), "hello, I am text");
    assertMentions(fails(f), "not a PyTorch checkpoint", "neither a zip archive nor the legacy pickle format");
  }

  @Test
  void missingFile() {
    Path f = dir.resolve("absent.pth");
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> TorchCheckpoint.readStateDict(f));
    assertMentions(e, f.toString());
  }

  @Test
  void truncatedCheckpoints() throws Exception {
    byte[] full = Files.readAllBytes(Fixtures.dir("fusion-stride2").resolve("model.pth"));
    for (int keep : new int[] {10, 100_000, full.length / 2, full.length - 30}) {
      Path f = Files.write(dir.resolve("cut" + keep + ".pth"), Arrays.copyOf(full, keep));
      assertMentions(fails(f), "truncated or damaged");
    }
  }

  @Test
  void zipWithoutDataPkl() throws Exception {
    Path f = PickleBytes.zip(dir.resolve("other.zip"), "stuff", Map.of("readme.txt", new byte[] {1, 2}));
    assertMentions(fails(f), "without <folder>/data.pkl", "stuff/readme.txt");
  }

  @Test
  void truncatedLegacyFiles() throws Exception {
    byte[] full = Files.readAllBytes(Path.of("tests/resources/io/bert_tiny_legacy.bin"));
    for (int keep : new int[] {3, 200, full.length / 2, full.length - 1}) {
      Path f = Files.write(dir.resolve("legacy" + keep + ".bin"), Arrays.copyOf(full, keep));
      assertMentions(fails(f), "truncated");
    }
  }

  @Test
  void aPlainPickleIsNotACheckpoint() throws Exception {
    Path f = Files.write(dir.resolve("plain.pkl"), PickleBytes.protocol(2).integer(7).stop().bytes());
    assertMentions(fails(f), "not with torch.save's magic number");
  }

  @Test
  void torchScriptArchivesAreNamedAsSuch() throws Exception {
    byte[] pkl = PickleBytes.protocol(2).orderedDict().stop().bytes();
    Path f = PickleBytes.zip(dir.resolve("scripted.pt"), "archive",
        Map.of("data.pkl", pkl, "constants.pkl", pkl, "code/__torch__.py", new byte[] {'#'}));
    assertMentions(fails(f), "TorchScript archive");
  }

  @Test
  void storageEntryShorterThanTheTensorNeeds() throws Exception {
    Path f = oneTensor("short.pt", "FloatStorage", 4, new long[] {4}, PickleBytes.floats(1, 2));
    CheckpointException e = fails(f);
    assertMentions(e, "key 'model/w'", "archive/data/0", "holds 8 bytes", "need 16");
    assertEquals("model/w", e.key().orElseThrow());
  }

  @Test
  void viewBeyondItsStorage() throws Exception {
    byte[] pkl = PickleBytes.protocol(2).orderedDict().mark().str("w")
        .tensor("FloatStorage", "0", 4, 1, new long[] {2, 2}, new long[] {2, 1}).setItems().stop().bytes();
    Path f = PickleBytes.zip(dir.resolve("view.pt"), "a",
        Map.of("data.pkl", pkl, "data/0", PickleBytes.floats(1, 2, 3, 4)));
    assertMentions(fails(f), "key 'w'", "reaches element 4", "has 4 elements");
  }

  @Test
  void missingStorageEntry() throws Exception {
    assertMentions(fails(oneTensor("nodata.pt", "FloatStorage", 4, new long[] {4}, null)),
        "key 'model/w'", "archive/data/0 is missing");
  }

  @Test
  void unknownStorageType() throws Exception {
    Path f = oneTensor("complex.pt", "ComplexFloatStorage", 2, new long[] {2}, new byte[16]);
    assertMentions(fails(f), "unsupported storage type torch.ComplexFloatStorage", "bf16");
  }

  @Test
  void damagedStorageBytes() throws Exception {
    byte[] marker = PickleBytes.floats(1.25f, 2.5f, 3.75f, 5.0f);
    Path f = oneTensor("crc.pt", "FloatStorage", 4, new long[] {4}, marker);
    byte[] bytes = Files.readAllBytes(f);
    int at = indexOf(bytes, marker);
    assertTrue(at > 0);
    bytes[at + 5] ^= 0x40;
    Files.write(f, bytes);
    assertMentions(fails(f), "key 'model/w'", "CRC mismatch");
  }

  @Test
  void nonTensorValueInTheStateDict() throws Exception {
    byte[] pkl = PickleBytes.protocol(2).emptyDict().str("model").orderedDict().mark()
        .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
        .str("step").integer(5).setItems().setItem().stop().bytes();
    Path f = PickleBytes.zip(dir.resolve("mixed.pt"), "a", Map.of("data.pkl", pkl, "data/0", PickleBytes.floats(1)));
    CheckpointException e = fails(f);
    assertMentions(e, "key 'model/step'", "not a tensor");
  }

  @Test
  void truncatedPickle() throws Exception {
    byte[] pkl = PickleBytes.protocol(2).emptyDict().str("model").bytes();
    Path f = PickleBytes.zip(dir.resolve("nostop.pt"), "a", Map.of("data.pkl", pkl));
    assertMentions(fails(f), "a/data.pkl", "truncated pickle");
  }

  @ParameterizedTest
  @CsvSource({"os,system", "posix,system", "nt,system", "builtins,eval", "builtins,exec", "__builtin__,eval",
      "builtins,getattr", "builtins,__import__", "subprocess,Popen", "subprocess,check_output", "torch,load",
      "runpy,_run_code", "collections,namedtuple", "torch._utils,_rebuild_device_tensor_from_numpy"})
  void disallowedGlobalsAreRefusedBeforeAnyCall(String module, String name) throws Exception {
    Path canary = dir.resolve("canary");
    byte[] pkl = PickleBytes.protocol(2).global(module, name).str("touch " + canary).tuple1().reduce().stop().bytes();
    Path f = PickleBytes.zip(dir.resolve("evil.pt"), "evil", Map.of("data.pkl", pkl));
    assertMentions(fails(f), "refused global '" + module + "." + name + "'", "evil/data.pkl");
    assertFalse(Files.exists(canary));
  }

  @Test
  void refusalComesBeforeAnythingElseInThePickle() throws Exception {
    // the global is refused as soon as it is named, even though the rest of the pickle is garbage
    byte[] pkl = PickleBytes.protocol(2).global("os", "system").op(0xff, 0xfe).bytes();
    Path f = PickleBytes.zip(dir.resolve("evil2.pt"), "evil", Map.of("data.pkl", pkl));
    assertMentions(fails(f), "refused global 'os.system'");
  }

  @Test
  void stackGlobalIsRefusedToo() throws Exception {
    byte[] pkl = PickleBytes.protocol(4).str("builtins").str("eval").op(0x93).str("1+1").tuple1().reduce().stop()
        .bytes();
    Path f = PickleBytes.zip(dir.resolve("evil4.pt"), "evil", Map.of("data.pkl", pkl));
    assertMentions(fails(f), "refused global 'builtins.eval'");
  }

  @Test
  void evilValueAfterGoodTensorsLoadsNothing() throws Exception {
    byte[] pkl = PickleBytes.protocol(2).emptyDict().str("model").orderedDict().mark()
        .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
        .str("x").global("builtins", "eval").str("__import__('os')").tuple1().reduce()
        .setItems().setItem().stop().bytes();
    Path f = PickleBytes.zip(dir.resolve("evil3.pt"), "a", Map.of("data.pkl", pkl, "data/0", PickleBytes.floats(1)));
    assertMentions(fails(f), "refused global 'builtins.eval'");
  }

  @Test
  void pythonObjectsOutsideTheStateDictAreRefused() {
    // torch.save({'model': sd, 'args': argparse.Namespace(...)}): the Namespace global is refused
    assertMentions(fails(Path.of("tests/resources/io/with_namespace.pt")), "refused global 'argparse.Namespace'");
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }
}
