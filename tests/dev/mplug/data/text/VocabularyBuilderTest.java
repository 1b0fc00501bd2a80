package dev.mplug.data.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VocabularyBuilderTest {
  @Test
  void idsBelow999AreBertBaseUncasedLayout() {
    Vocabulary v = new VocabularyBuilder().add("a red circle").build();
    assertEquals(0, v.padId());
    assertEquals(100, v.unkId());
    assertEquals(101, v.clsId());
    assertEquals(102, v.sepId());
    assertEquals(103, v.maskId());
    assertEquals("[unused0]", v.token(1));
    assertEquals("[unused98]", v.token(99));
    assertEquals("[unused99]", v.token(104));
    assertEquals(344, v.id("[unused339]"), "grounding's start token");
    assertEquals(681, v.id("[unused676]"), "grounding's last coordinate token");
    assertEquals("[unused993]", v.token(998));
    assertEquals(999, VocabularyBuilder.FIRST_PIECE);
  }

  @Test
  void piecesAreTheTextsWholeWordsAndCharactersSorted() {
    List<String> tokens = new VocabularyBuilder().add("Hello, naïve WORLD [SEP] yes").add("hello again").tokens();
    List<String> pieces = tokens.subList(VocabularyBuilder.FIRST_PIECE, tokens.size());
    assertTrue(pieces.containsAll(List.of("hello", "naive", "world", "yes", "again", ",", "a", "##a", "9", "##9")));
    assertFalse(pieces.contains("[SEP]"), "specials are not repeated");
    assertFalse(pieces.contains("A"), "uncased");
    assertFalse(pieces.contains("naïve"), "accents stripped as the tokenizer does");
    assertEquals(pieces.stream().sorted().distinct().toList(), pieces);
    // 94 printable ASCII less 26 capitals, 36 ## letters and digits, 5 words (the comma is a character already)
    assertEquals(68 + 36 + 5, pieces.size());
  }

  @Test
  void textsEncodeAsWholeWordsAndUnseenWordsAreSpelledOut(@TempDir Path dir) {
    VocabularyBuilder b = new VocabularyBuilder().add("a small red circle on the left").add("how many shapes");
    Path file = dir.resolve("vocab.txt");
    int size = b.write(file);
    BertTokenizer tok = BertTokenizer.load(file);
    assertEquals(size, tok.vocabulary().size());
    assertEquals(b.tokens().get(size - 1), tok.vocabulary().token(size - 1));

    int[] ids = tok.tokenIds("a small red circle on the left");
    assertEquals(7, ids.length, "one id per word");
    for (int id : ids) assertTrue(id >= VocabularyBuilder.FIRST_PIECE);
    assertEquals("how many shapes", tok.decode(tok.encode("how many shapes", 8).ids()));

    assertEquals(List.of("z", "##e", "##b", "##r", "##a"), tok.tokenize("Zebra"));
    assertEquals("zebra", tok.decode(tok.tokenIds("zebra")));
  }
}
