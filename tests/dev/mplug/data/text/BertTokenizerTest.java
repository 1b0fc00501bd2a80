package dev.mplug.data.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BertTokenizerTest {
  static final Path VOCAB = Path.of("tests/resources/data/vocab-small.txt");
  static final BertTokenizer TOK = BertTokenizer.load(VOCAB);

  static int id(String token) {
    int id = TOK.vocabulary().id(token);
    assertTrue(id >= 0, token + " is in the test vocabulary");
    return id;
  }

  /**
   * Expected tokens and ids written by Hugging Face's slow BertTokenizer (transformers 4.57.6, do_lower_case=True) over
   * the same vocabulary: accents, punctuation, ## pieces, unknowns, long words, CJK, control and odd whitespace.
   */
  @Test
  void matchesHuggingFaceOnTrickyTexts() throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<String> failures = new ArrayList<>();
    int n = 0;
    for (String line : Files.readAllLines(Path.of("tests/resources/data/wordpiece-expected.jsonl"))) {
      JsonNode c = json.readTree(line);
      String text = c.get("text").asText();
      List<String> expected = new ArrayList<>();
      c.get("tokens").forEach(t -> expected.add(t.asText()));
      int[] expectedIds = new int[c.get("ids").size()];
      for (int i = 0; i < expectedIds.length; i++) expectedIds[i] = c.get("ids").get(i).asInt();
      List<String> got = TOK.tokenize(text);
      if (!got.equals(expected) || !Arrays.equals(expectedIds, TOK.tokenIds(text))) {
        failures.add(json.writeValueAsString(text) + ": expected " + expected + " got " + got);
      }
      n++;
    }
    assertTrue(n >= 40, "fixture has the cases");
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void wordPiecesAccentsPunctuationAndCjk() {
    assertEquals(List.of("un", "##aff", "##able"), TOK.tokenize("Unaffable"));
    assertEquals(List.of("cafe", "naive", "resume"), TOK.tokenize("Café naïve RÉSUMÉ"));
    assertEquals(List.of("hello", ",", "world", "!"), TOK.tokenize("hello,world!"));
    assertEquals(List.of("$", "5", "@", "{", "x", "}"), TOK.tokenize("$5 @ {x}"));   // ASCII symbols split too
    assertEquals(List.of("«", "x", "»", "…"), TOK.tokenize("«x»…"));                // Unicode P* categories
    assertEquals(List.of("中", "国", "人"), TOK.tokenize("中国人"));                        // one token per ideograph
    assertEquals(List.of("x", "一", "y"), TOK.tokenize("x一y"));
  }

  @Test
  void unknownsAndLongWords() {
    assertEquals(List.of("[UNK]"), TOK.tokenize("xqx"));        // no piece for q: the whole word, never a partial
    assertEquals(List.of("[UNK]", "的"), TOK.tokenize("猫的"));   // an ideograph missing from the vocabulary
    assertEquals(List.of("[UNK]"), TOK.tokenize("😀"));
    String hundred = "a".repeat(100);
    assertEquals(100, TOK.tokenize(hundred).size());            // 100 code points: still split into pieces
    assertEquals(List.of("[UNK]"), TOK.tokenize(hundred + "a"));
    // 101 code points written with surrogate pairs count as 101, not 202 UTF-16 units
    assertEquals(List.of("[UNK]"), TOK.tokenize("\uD835\uDC00".repeat(101)));
  }

  @Test
  void controlCharactersAndOddWhitespace() {
    assertEquals(List.of("the", "dog"), TOK.tokenize(" \t the\u00a0\u3000dog \r\n"));
    assertEquals(List.of("a", "##b", "##c"), TOK.tokenize("a\u0000b\u200bc\ufffd"));   // dropped, not split
    assertEquals(List.of("red", "dog"), TOK.tokenize("red\u2028dog"));                   // line separator splits
    assertEquals(List.of(), TOK.tokenize(" \t\n "));
    assertEquals(List.of(), TOK.tokenize(""));
  }

  @Test
  void specialTokensInTheTextStayWhole() {
    assertEquals(List.of("is", "it", "red", "[SEP]", "yes"), TOK.tokenize("is it red[SEP]yes"));
    assertEquals(List.of("[", "s", "##e", "##p", "]"), TOK.tokenize("[sep]"));   // only the exact spelling
    assertEquals(List.of("[CLS]", "[", "a", "[MASK]"), TOK.tokenize("[CLS][a[MASK]"));
  }

  @Test
  void encodeAddsClsSepTruncatesAndPads() {
    Encoding e = TOK.encode("a red circle", 8);
    int[] expected = {id("[CLS]"), id("a"), id("red"), id("circle"), id("[SEP]"), 0, 0, 0};
    assertArrayEquals(expected, e.ids());
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 0, 0, 0}, e.mask());
    assertEquals(5, e.length());
    // truncation keeps [SEP] last
    Encoding t = TOK.encode("a red circle on the left", 5);
    assertArrayEquals(new int[] {id("[CLS]"), id("a"), id("red"), id("circle"), id("[SEP]")}, t.ids());
    assertArrayEquals(new int[] {1, 1, 1, 1, 1}, t.mask());
    assertArrayEquals(new int[] {id("[CLS]"), id("[SEP]")}, TOK.encode("", 2).ids());
    assertThrows(IllegalArgumentException.class, () -> TOK.encode("x", 1));
  }

  @Test
  void batchEncodingPadsToLongestOrMaxLengthWithMasks() {
    TokenBatch b = TOK.encodeBatch(List.of("a dog", "the big red dog runs", ""), 6, Padding.LONGEST);
    assertEquals(3, b.size());
    assertEquals(6, b.length());      // "the big red dog runs" = 5 pieces, truncated to 4 + [CLS] + [SEP]
    long cls = id("[CLS]"), sep = id("[SEP]");
    assertArrayEquals(new long[] {cls, id("a"), id("dog"), sep, 0, 0}, b.row(0));
    assertArrayEquals(new long[] {cls, id("the"), id("big"), id("red"), id("dog"), sep}, b.row(1));
    assertArrayEquals(new long[] {cls, sep, 0, 0, 0, 0}, b.row(2));
    assertArrayEquals(new long[] {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, b.mask());
    assertArrayEquals(new int[] {4, 6, 2}, b.lengths());

    TokenBatch shortBatch = TOK.encodeBatch(List.of("a dog", "dog"), 10, Padding.LONGEST);
    assertEquals(4, shortBatch.length());
    assertEquals(10, TOK.encodeBatch(List.of("a dog"), 10, Padding.MAX_LENGTH).length());

    try (TensorScope _ = TensorScope.open()) {
      Tensor ids = b.idsTensor();
      Tensor mask = b.maskTensor();
      assertArrayEquals(new long[] {3, 6}, Tensors.shape(ids));
      assertEquals("Long", ids.scalar_type().toString());
      assertArrayEquals(b.ids(), Tensors.toLongs(ids));
      assertArrayEquals(b.mask(), Tensors.toLongs(mask));
    }
  }

  @Test
  void decodeJoinsPiecesAndSkipsSpecials() {
    int[] ids = TOK.encode("Snowboarding, a dog!", 12).ids();
    assertEquals("snowboarding , a dog !", TOK.decode(ids));
    // specials are dropped before joining, as Hugging Face's decode(skip_special_tokens=True) does
    assertEquals("unaff", TOK.decode(new int[] {id("un"), id("[SEP]"), id("##aff")}));
    assertEquals("##ing dog", TOK.decode(new int[] {id("##ing"), id("dog")}));   // a leading piece keeps its ##
    long[] asLongs = {id("[CLS]"), id("play"), id("##ing"), id("[SEP]"), 0};
    assertEquals("playing", TOK.decode(asLongs));
    assertThrows(IllegalArgumentException.class, () -> TOK.decode(new long[] {TOK.vocabulary().size()}));
  }

  @Test
  void vocabularyErrorsNameTheFileAndProblem(@TempDir Path dir) throws IOException {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> Vocabulary.load(dir.resolve("none.txt")));
    assertTrue(missing.getMessage().contains("none.txt") && missing.getMessage().contains("does not exist"),
        missing.getMessage());
    Path noSpecials = dir.resolve("v.txt");
    Files.writeString(noSpecials, "[PAD]\n[UNK]\n[CLS]\nhello\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.load(noSpecials));
    assertTrue(e.getMessage().contains("[SEP]") && e.getMessage().contains("v.txt"), e.getMessage());
    Path badUtf8 = dir.resolve("bad.txt");
    byte[] bytes = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nx".getBytes(StandardCharsets.UTF_8);
    byte[] withBad = Arrays.copyOf(bytes, bytes.length + 2);
    withBad[bytes.length] = (byte) 0xC3;
    withBad[bytes.length + 1] = (byte) 0x28;    // an invalid continuation byte
    Files.write(badUtf8, withBad);
    e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.load(badUtf8));
    assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
  }

  @Test
  void vocabularyIdsAreLineNumbers() {
    Vocabulary v = TOK.vocabulary();
    assertEquals(0, v.padId());
    assertEquals(11, v.unkId());
    assertEquals(12, v.clsId());
    assertEquals(13, v.sepId());
    assertEquals(14, v.maskId());
    assertEquals("[unused0]", v.token(1));
    assertEquals(-1, v.id("q"));
    assertEquals(v.unkId(), v.idOrUnk("q"));
  }
}
