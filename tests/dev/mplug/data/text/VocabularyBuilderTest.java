package dev.mplug.data.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VocabularyBuilderTest {
  @Test
  void specialTokensHaveTheirBertBaseUncasedIds() {
    VocabularyBuilder b = new VocabularyBuilder().add("a red circle");
    Vocabulary v = b.build();
    assertEquals(0, v.padId());
    assertEquals(100, v.unkId());
    assertEquals(101, v.clsId());
    assertEquals(102, v.sepId());
    assertEquals(103, v.maskId());
    assertEquals("[unused0]", v.token(1));
    assertEquals("[unused98]", v.token(99));
    assertEquals(104, b.firstPiece());
    assertEquals(List.of("a", "circle", "red"), b.tokens().subList(104, v.size()));
  }

  @Test
  void wordsAddedLaterComeAfterTheOthersWhichKeepTheirIds() {
    VocabularyBuilder b = new VocabularyBuilder().add("a red circle").addLater("both images are red")
        .add("a blue square").addLater("a circle and an apple");
    assertEquals(List.of("a", "blue", "circle", "red", "square", "an", "and", "apple", "are", "both", "images"),
        b.tokens().subList(104, b.tokens().size()), "the first block sorted, then the later words not in it, sorted");
    VocabularyBuilder without = new VocabularyBuilder().add("a red circle").add("a blue square");
    assertEquals(without.tokens(), b.tokens().subList(0, without.tokens().size()));
  }

  @Test
  void withBertUnusedEveryIdBelow999IsBerts() {
    VocabularyBuilder b = new VocabularyBuilder().bertUnused(true).add("a red circle");
    Vocabulary v = b.build();
    assertEquals(101, v.clsId());
    assertEquals(102, v.sepId());
    assertEquals("[unused99]", v.token(104));
    assertEquals(344, v.id("[unused339]"), "grounding's start token");
    assertEquals(681, v.id("[unused676]"), "grounding's last coordinate token");
    assertEquals("[unused993]", v.token(998));
    assertEquals(999, b.firstPiece());
    assertEquals("a", v.token(999));
    assertEquals(1002, v.size());
  }

  @Test
  void piecesAreTheTextsWholeWordsSorted() {
    VocabularyBuilder b = new VocabularyBuilder().add("Hello, naïve WORLD [SEP] yes").add("hello again");
    List<String> tokens = b.tokens();
    assertEquals(List.of(",", "again", "hello", "naive", "world", "yes"), tokens.subList(104, tokens.size()),
        "lower-cased, accents stripped, punctuation split off, specials not repeated, sorted");

    List<String> withChars = b.characters(true).tokens();
    List<String> pieces = withChars.subList(104, withChars.size());
    assertTrue(pieces.containsAll(List.of("hello", "naive", "a", "##a", "9", "##9", "?")));
    assertFalse(pieces.contains("A"), "uncased");
    assertEquals(pieces.stream().sorted().distinct().toList(), pieces);
    // 94 printable ASCII less 26 capitals, 36 ## letters and digits, 5 words (the comma is a character already)
    assertEquals(68 + 36 + 5, pieces.size());
  }

  @Test
  void textsEncodeAsWholeWordsAndUnseenWordsAreSpelledOutWithCharacters(@TempDir Path dir) {
    VocabularyBuilder b = new VocabularyBuilder().add("a small red circle on the left").add("how many shapes");
    Path file = dir.resolve("vocab.txt");
    int size = b.write(file);
    BertTokenizer tok = BertTokenizer.load(file);
    assertEquals(size, tok.vocabulary().size());
    assertEquals(b.tokens(), IntStream.range(0, size).mapToObj(tok.vocabulary()::token).toList());

    int[] ids = tok.tokenIds("a small red circle on the left");
    assertEquals(7, ids.length, "one id per word");
    for (int id : ids) assertTrue(id >= b.firstPiece());
    assertEquals("how many shapes", tok.decode(tok.encode("how many shapes", 8).ids()));
    assertEquals(List.of("[UNK]"), tok.tokenize("zebra"), "words only: unseen is unknown");

    BertTokenizer spelled = new BertTokenizer(b.characters(true).build());
    assertEquals(List.of("z", "##e", "##b", "##r", "##a"), spelled.tokenize("Zebra"));
    assertEquals("zebra", spelled.decode(spelled.tokenIds("zebra")));
    assertEquals(7, spelled.tokenIds("a small red circle on the left").length);
  }
}
