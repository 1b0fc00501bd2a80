package dev.mplug.bench;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.Vocabulary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Captions tokenised per second (one JMH operation = one caption), on the pretraining path: the official caption
 * clean-up, then WordPiece ids; and batch encoding (64 captions, [CLS]/[SEP], truncation to 30, padding, masks).
 *
 * <p>Captions are COCO-like sentences drawn from a fixed word list with capitals and punctuation. The vocabulary is
 * {@code -p vocab=/path/to/vocab.txt} (e.g. bert-base-uncased's) or, by default, a synthetic one built from the same
 * word list in which a fifth of the words exist only as two pieces ({@code skate ##boarding}), so the greedy matcher
 * does real work. Run with JMH's {@code -t N} for N threads sharing one tokenizer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class TokenizerBenchmark {
  static final int CAPTIONS = 4096;
  static final int BATCH = 64;
  static final String[] WORDS = ("a an the man woman person people boy girl child dog cat horse bird giraffe elephant "
      + "zebra bear sheep cow pizza sandwich plate table kitchen bathroom toilet sink street road car bus train truck "
      + "bicycle motorcycle airplane boat water beach ocean wave surfboard skateboard skateboarding snowboard skiing "
      + "tennis racket ball frisbee kite umbrella clock building tower sign traffic light field grass tree sky snow "
      + "red blue green yellow white black orange brown large small big little young old two three several group "
      + "sitting standing riding holding playing walking eating looking flying laying parked next to on in of with "
      + "near top front behind under while and is are that his her their some").split(" ");

  @Param({""})
  public String vocab;

  private BertTokenizer tokenizer;
  private String[] captions;
  private List<List<String>> batches;

  @Setup
  public void setUp() {
    tokenizer = vocab.isEmpty() ? new BertTokenizer(syntheticVocabulary()) : BertTokenizer.load(Path.of(vocab));
    Random rng = new Random(0);
    captions = new String[CAPTIONS];
    for (int i = 0; i < CAPTIONS; i++) captions[i] = caption(rng);
    batches = new ArrayList<>();
    for (int i = 0; i < CAPTIONS; i += BATCH) {
      List<String> b = new ArrayList<>(BATCH);
      for (int j = i; j < i + BATCH; j++) b.add(TextCleaning.preCaption(captions[j], 30));
      batches.add(b);
    }
  }

  /** The pretraining path for one caption: pre_caption, then word-piece ids. */
  @Benchmark
  @OperationsPerInvocation(CAPTIONS)
  public long cleanAndTokenize() {
    long sum = 0;
    for (String c : captions) {
      int[] ids = tokenizer.tokenIds(TextCleaning.preCaption(c, 30));
      sum += ids.length + (ids.length > 0 ? ids[0] : 0);
    }
    return sum;
  }

  /** Word-piece ids of the raw caption (basic tokenisation does the lower-casing and punctuation). */
  @Benchmark
  @OperationsPerInvocation(CAPTIONS)
  public long tokenize() {
    long sum = 0;
    for (String c : captions) sum += tokenizer.tokenIds(c).length;
    return sum;
  }

  /** Batches of 64 cleaned captions to padded [64, T] ids and masks (plain arrays; tensors are not timed). */
  @Benchmark
  @OperationsPerInvocation(CAPTIONS)
  public long encodeBatches() {
    long sum = 0;
    for (List<String> b : batches) {
      TokenBatch t = tokenizer.encodeBatch(b, 30, Padding.LONGEST);
      sum += t.length();
    }
    return sum;
  }

  static String caption(Random rng) {
    int n = 6 + rng.nextInt(9);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      String w = WORDS[rng.nextInt(WORDS.length)];
      if (i == 0) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
      if (i > 0) s.append(rng.nextInt(12) == 0 ? ", " : " ");
      s.append(w);
    }
    return s.append(rng.nextBoolean() ? "." : " ").toString();
  }

  /** Specials, punctuation, letters and ##letters, the words; every fifth word only as two pieces. */
  static Vocabulary syntheticVocabulary() {
    Set<String> v = new LinkedHashSet<>(Vocabulary.SPECIALS);
    for (char c = '!'; c <= '~'; c++) if (!Character.isLetterOrDigit(c)) v.add(String.valueOf(c));
    for (char c = 'a'; c <= 'z'; c++) {
      v.add(String.valueOf(c));
      v.add("##" + c);
    }
    for (int i = 0; i < WORDS.length; i++) {
      String w = WORDS[i];
      if (i % 5 == 4 && w.length() > 3) {
        v.add(w.substring(0, w.length() / 2));
        v.add("##" + w.substring(w.length() / 2));
      } else {
        v.add(w);
      }
    }
    return Vocabulary.of(new ArrayList<>(v));
  }
}
