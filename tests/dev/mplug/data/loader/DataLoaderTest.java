package dev.mplug.data.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.PretrainSample;
import dev.mplug.data.shard.ShardPacker;
import dev.mplug.data.shard.ShardSet;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataLoaderTest {
  static final BertTokenizer TOK = BertTokenizer.load(Path.of("tests/resources/data/vocab-small.txt"));
  static final String[] WORDS = {"red", "blue", "green", "circle", "square", "triangle", "left", "right"};

  @TempDir Path root;

  /** What a batch held, in plain Java, to compare runs. */
  record Seen(List<Integer> indices, List<Long> textIds, List<Float> images, List<Long> labels, int offset) {}

  static Seen seen(Batch b) {
    List<Long> ids = new ArrayList<>();
    for (long v : Tensors.toLongs(b.tensor(Batch.TEXT_IDS))) ids.add(v);
    List<Float> images = new ArrayList<>();
    for (float v : Tensors.toFloats(b.tensor(Batch.IMAGES))) images.add(v);
    List<Long> labels = new ArrayList<>();
    if (b.has(Batch.LABELS)) for (long v : Tensors.toLongs(b.tensor(Batch.LABELS))) labels.add(v);
    return new Seen(Arrays.stream(b.indices()).boxed().toList(), ids, images, labels, b.position().offset());
  }

  /**
   * n pretraining samples: image i holds bytes {i, 2i}; captions are one or two three-word phrases. Entries listed in
   * {@code missing} name an image that does not exist; "malformed" entries have a numeric caption.
   */
  AnnotationDataset<PretrainSample> dataset(int n, Set<Integer> missing, Set<Integer> malformed) throws IOException {
    Files.createDirectories(root.resolve("img"));
    StringBuilder json = new StringBuilder("[\n");
    for (int i = 0; i < n; i++) {
      if (!missing.contains(i)) Files.write(root.resolve("img/" + i + ".jpg"), new byte[] {(byte) i, (byte) (2 * i)});
      String a = "A " + WORDS[i % 8] + " " + WORDS[(i / 8) % 8] + "!";
      String b = "the " + WORDS[(i + 3) % 8] + " one";
      String caption = malformed.contains(i) ? "7" : i % 3 == 0 ? "[\"" + a + "\", \"" + b + "\"]" : "\"" + a + "\"";
      json.append(i == 0 ? "" : ",\n").append("{\"image\": \"img/").append(i).append(".jpg\", \"caption\": ")
          .append(caption).append("}");
    }
    Path ann = root.resolve("pretrain.json");
    Files.writeString(ann, json.append("\n]").toString());
    return AnnotationDataset.pretrain(ann, root);
  }

  /** A stand-in for decode + augment: the image's two bytes plus a value drawn from the sample's generator. */
  static final MediaFunction<float[]> FAKE_IMAGE = (ref, rng) -> {
    byte[] b = ref.bytes();
    return new float[] {b[0], b[1], rng.nextInt(1000)};
  };

  static TaskCollator<float[]> collator() {
    return new TaskCollator<>(TOK, 8, 6, images -> {
      float[] flat = new float[images.size() * 3];
      for (int i = 0; i < images.size(); i++) System.arraycopy(images.get(i), 0, flat, i * 3, 3);
      return Tensors.floats(flat, images.size(), 3);      // [n, 3]
    });
  }

  static DataLoader<Example<float[]>> loader(SampleStore store, LoaderConfig config, List<String> reports) {
    return new DataLoader<>(store, new TaskPreparation<>(FAKE_IMAGE, TextOptions.training()), collator(), config,
        Collections.synchronizedList(reports)::add);
  }

  static List<Seen> drain(DataLoader<?>.Epoch epoch) {
    List<Seen> out = new ArrayList<>();
    try (epoch) {
      while (epoch.hasNext()) {
        try (Batch b = epoch.next()) {
          out.add(seen(b));
        }
      }
    }
    return out;
  }

  @Test
  void batchesHoldTokenisedCleanedCaptionsAndStackedImages() throws IOException {
    AnnotationDataset<PretrainSample> d = dataset(5, Set.of(), Set.of());
    LoaderConfig config = LoaderConfig.of(2).withShuffle(false, 0).withWorkers(0, 1);
    try (DataLoader<Example<float[]>> loader = loader(SampleStore.of(d), config, new ArrayList<>());
        DataLoader<Example<float[]>>.Epoch epoch = loader.epoch(0)) {
      assertEquals(3, loader.batchesPerEpoch());
      try (Batch b = epoch.next()) {
        assertArrayEquals(new int[] {0, 1}, b.indices());
        assertEquals(new LoaderPosition(0, 2), b.position());
        assertArrayEquals(new long[] {2, 3}, Tensors.shape(b.tensor(Batch.IMAGES)));
        float[] images = Tensors.toFloats(b.tensor(Batch.IMAGES));
        assertEquals(1f, images[3]);          // image 1's bytes {1, 2}
        assertEquals(2f, images[4]);
        // sample 1: "A blue red!" -> pre_caption "a blue red" -> [CLS] a blue red [SEP]
        long[] row1 = Arrays.copyOfRange(Tensors.toLongs(b.tensor(Batch.TEXT_IDS)), 5, 10);
        assertEquals("a blue red", TOK.decode(row1));
        assertEquals(TOK.vocabulary().clsId(), row1[0]);
        assertEquals(List.of("img/0.jpg", "img/1.jpg"), b.strings(Batch.IDS));
      }
      epoch.next().close();
      try (Batch last = epoch.next()) {
        assertEquals(1, last.size());           // the last, incomplete batch is kept
        assertEquals(new LoaderPosition(0, 5), last.position());
      }
      assertFalse(epoch.hasNext());
    }
  }

  @Test
  void sameSeedSameBatchesWhateverTheWorkerCountAndEpochsDiffer() throws IOException {
    AnnotationDataset<PretrainSample> d = dataset(23, Set.of(), Set.of());
    LoaderConfig base = LoaderConfig.of(4).withShuffle(true, 7);
    List<Seen> serial;
    List<Seen> parallel;
    List<Seen> nextEpoch;
    try (var a = loader(SampleStore.of(d), base.withWorkers(0, 1), new ArrayList<>());
        var b = loader(SampleStore.of(d), base.withWorkers(3, 2), new ArrayList<>())) {
      serial = drain(a.epoch(2));
      parallel = drain(b.epoch(2));
      nextEpoch = drain(b.epoch(3));
      assertTrue(b.throughput().samples() == 46 && b.throughput().samplesPerSecond() > 0, b.throughput().toString());
    }
    assertEquals(serial, parallel);
    assertNotEquals(serial, nextEpoch);
    List<Integer> all = new ArrayList<>();
    serial.forEach(s -> all.addAll(s.indices()));
    assertEquals(23, new HashSet<>(all).size(), "one epoch visits every sample once");
    assertNotEquals(List.of(0, 1, 2, 3), serial.get(0).indices(), "shuffled");
  }

  @Test
  void resumingFromASavedPositionReproducesTheRemainingBatches() throws IOException {
    AnnotationDataset<PretrainSample> d = dataset(30, Set.of(4), Set.of(17));   // with replacements in play
    LoaderConfig config = LoaderConfig.of(4).withShuffle(true, 11).withWorkers(2, 3).withBadSamples(0.5, 0);
    List<Seen> full;
    LoaderPosition saved;
    List<Seen> afterRestart;
    try (var loader = loader(SampleStore.of(d), config, new ArrayList<>())) {
      full = drain(loader.epoch(1));
    }
    try (var loader = loader(SampleStore.of(d), config, new ArrayList<>());
        DataLoader<Example<float[]>>.Epoch epoch = loader.epoch(1)) {
      for (int i = 0; i < 3; i++) epoch.next().close();
      saved = epoch.position();
    }
    assertEquals(new LoaderPosition(1, 12), saved);
    try (var loader = loader(SampleStore.of(d), config, new ArrayList<>())) {
      afterRestart = drain(loader.resume(saved));
    }
    assertEquals(full.subList(3, full.size()), afterRestart);
  }

  @Test
  void ranksGetDisjointEqualShardsCoveringTheDataset() throws IOException {
    AnnotationDataset<PretrainSample> d = dataset(10, Set.of(), Set.of());
    List<Integer> all = new ArrayList<>();
    for (int rank = 0; rank < 3; rank++) {
      LoaderConfig config = LoaderConfig.of(2).withShuffle(true, 3).withRank(rank, 3).withWorkers(1, 2);
      try (var loader = loader(SampleStore.of(d), config, new ArrayList<>())) {
        assertEquals(4, loader.samplesPerEpoch());
        List<Integer> mine = new ArrayList<>();
        drain(loader.epoch(0)).forEach(s -> mine.addAll(s.indices()));
        assertEquals(4, mine.size());
        all.addAll(mine);
      }
    }
    assertEquals(12, all.size());
    assertEquals(10, new HashSet<>(all).size());
  }

  @Test
  void badSamplesAreReportedOnceReplacedDeterministicallyAndCounted() throws IOException {
    AnnotationDataset<PretrainSample> d = dataset(12, Set.of(2, 9), Set.of(5));
    LoaderConfig config = LoaderConfig.of(3).withShuffle(false, 5).withWorkers(2, 2).withBadSamples(0.5, 0);
    List<String> reports = new ArrayList<>();
    List<Seen> first;
    List<Seen> second;
    try (var loader = loader(SampleStore.of(d), config, reports)) {
      first = drain(loader.epoch(0));
      second = drain(loader.epoch(1));
      assertEquals(6, loader.badSamples().substitutions(), "3 bad samples, met in each of 2 epochs");
      assertEquals(3, loader.badSamples().distinct(), "counted once however often they are met");
    }
    assertEquals(3, reports.size(), "each bad source reported once: " + reports);
    assertTrue(reports.get(0).contains(root.resolve("img/2.jpg") + ": missing file"), reports.get(0));
    assertTrue(reports.get(1).contains(root.resolve("pretrain.json") + ":7: field \"caption\""), reports.get(1));
    assertTrue(reports.get(2).contains("img/9.jpg: missing file"), reports.get(2));
    List<Integer> used = new ArrayList<>();
    first.forEach(s -> used.addAll(s.indices()));
    for (int bad : new int[] {2, 5, 9}) assertFalse(used.contains(bad), "bad index " + bad + " was replaced");
    assertEquals(12, used.size());
    // the same bad index is replaced by the same sample in every epoch (no shuffle here: same positions)
    assertEquals(first.get(0).indices(), second.get(0).indices());
    assertEquals(first.get(3).indices(), second.get(3).indices());
  }

  @Test
  void tooManyBadSamplesStopTheRunWithAClearMessage() throws IOException {
    AnnotationDataset<PretrainSample> d = dataset(8, Set.of(0, 1, 2, 3), Set.of());
    LoaderConfig config = LoaderConfig.of(4).withShuffle(false, 0).withWorkers(1, 1).withBadSamples(0.25, 0);
    try (var loader = loader(SampleStore.of(d), config, new ArrayList<>());
        DataLoader<Example<float[]>>.Epoch epoch = loader.epoch(0)) {
      TooManyBadSamplesException e = assertThrows(TooManyBadSamplesException.class, epoch::next);
      assertTrue(e.getMessage().startsWith("stopping: "), e.getMessage());
      assertTrue(e.getMessage().contains("4 distinct samples of the 8 in the dataset (50.0%) were bad")
          && e.getMessage().contains("more than the allowed 25.0%"),
          e.getMessage());
      assertFalse(epoch.hasNext(), "the epoch is over");
    }
    // every sample bad: no replacement can be found
    for (int i = 4; i < 8; i++) Files.delete(root.resolve("img/" + i + ".jpg"));
    AnnotationDataset<PretrainSample> hopeless = dataset(8, Set.of(0, 1, 2, 3, 4, 5, 6, 7), Set.of());
    try (var loader = loader(SampleStore.of(hopeless), config.withBadSamples(1.0, 0), new ArrayList<>());
        DataLoader<Example<float[]>>.Epoch epoch = loader.epoch(0)) {
      TooManyBadSamplesException e = assertThrows(TooManyBadSamplesException.class, epoch::next);
      assertTrue(e.getMessage().contains("no usable sample") && e.getMessage().contains("after 16 tries"),
          e.getMessage());
    }
  }

  @Test
  void workerFailuresPropagateAndPrefetchIsBounded() throws IOException, InterruptedException {
    AnnotationDataset<PretrainSample> d = dataset(40, Set.of(), Set.of());
    AtomicInteger loaded = new AtomicInteger();
    IllegalStateException boom = new IllegalStateException("decoder crashed");
    MediaFunction<float[]> counting = (ref, rng) -> {
      if (ref.name().equals("img/20.jpg")) throw boom;
      loaded.incrementAndGet();
      return FAKE_IMAGE.apply(ref, rng);
    };
    LoaderConfig config = LoaderConfig.of(4).withShuffle(false, 0).withWorkers(2, 2);
    try (var loader = new DataLoader<>(SampleStore.of(d), new TaskPreparation<>(counting, TextOptions.training()),
        collator(), config, m -> { });
        DataLoader<Example<float[]>>.Epoch epoch = loader.epoch(0)) {
      epoch.next().close();
      Thread.sleep(300);
      assertTrue(loaded.get() <= 12, "at most the delivered batch + 2 in flight were loaded: " + loaded.get());
      assertTrue(loaded.get() >= 4, "the first batch was loaded");
      IllegalStateException e = null;
      for (int i = 0; i < 10 && e == null; i++) {
        try {
          epoch.next().close();
        } catch (IllegalStateException thrown) {
          e = thrown;
        }
      }
      assertSame(boom, e, "the worker's exception reaches the consumer");
      assertFalse(epoch.hasNext());
    }
    Thread.sleep(50);
    assertTrue(Thread.getAllStackTraces().keySet().stream()
        .noneMatch(t -> t.getName().startsWith("mplug-loader-") && t.isAlive()), "closed loaders leave no worker");
  }

  @Test
  void shardsGiveTheSameBatchesAsTheAnnotationFiles() throws IOException {
    AnnotationDataset<PretrainSample> d = dataset(9, Set.of(), Set.of());
    ShardPacker.pack(d, root.resolve("shards"), 4, e -> { throw e; });
    LoaderConfig config = LoaderConfig.of(4).withShuffle(true, 1).withWorkers(2, 2);
    try (ShardSet shards = ShardSet.open(root.resolve("shards"));
        var fromShards = loader(SampleStore.of(shards), config, new ArrayList<>());
        var fromFiles = loader(SampleStore.of(d), config, new ArrayList<>())) {
      assertEquals(drain(fromFiles.epoch(0)), drain(fromShards.epoch(0)));
    }
  }

  @Test
  void tensorLookupErrorsNameWhatIsThere() {
    Batch.Builder b = Batch.Builder.standalone(1);
    Tensor t = Tensors.floats(new float[] {1}, 1);
    try (Batch batch = b.tensor(Batch.LABELS, t).build(null)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> batch.tensor(Batch.IMAGES));
      assertTrue(e.getMessage().contains("has [labels]"), e.getMessage());
    }
  }
}
