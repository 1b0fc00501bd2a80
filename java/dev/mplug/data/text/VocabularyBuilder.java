package dev.mplug.data.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@code vocab.txt} in bert-base-uncased's layout for a dataset whose texts are known (the synthetic world), for
 * when the real vocabulary is not at hand: the ids the model hard-codes stay where BERT has them, then come just the
 * pieces the dataset needs, so a tiny model's embedding table stays tiny.
 *
 * <ul>
 *   <li>[PAD] 0, [unused0..98] 1..99, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, as in bert-base-uncased (generation
 *       starts at [CLS] and stops at [SEP]); with {@link #bertUnused} also [unused99..993] at 104..998, so every id
 *       below 999 is BERT's (grounding's coordinate tokens are [unused339..676]);</li>
 *   <li>then, sorted: every word of the texts after basic tokenisation (lower-cased, accents stripped, punctuation
 *       split off) as a whole word; with {@link #characters} also each printable ASCII character but the capitals and
 *       {@code ##} + each letter and digit, so words the dataset never used are spelled out instead of [UNK];</li>
 *   <li>then, sorted, the words only the texts given to {@link #addLater} have: texts of datasets added to a world
 *       after others, so that adding them leaves every earlier word's id (and what a model trained on it reads) as
 *       it was.</li>
 * </ul>
 * Feed it the texts as the model will read them (cleaned captions and questions, answers).
 */
public final class VocabularyBuilder {
  /** [unused0] .. [unused993] in bert-base-uncased. */
  public static final int BERT_UNUSED_TOKENS = 994;
  /** [unused0] .. [unused98]: the ones before [UNK]. */
  private static final int UNUSED_BEFORE_UNK = 99;

  private final BasicTokenizer basic = new BasicTokenizer(true, Set.copyOf(Vocabulary.SPECIALS));
  private final TreeSet<String> words = new TreeSet<>();
  private final TreeSet<String> laterWords = new TreeSet<>();
  private boolean bertUnused;
  private boolean characters;

  /** Also [unused99..993] at ids 104..998, as in bert-base-uncased (default: off). */
  public VocabularyBuilder bertUnused(boolean on) {
    this.bertUnused = on;
    return this;
  }

  /** Also single characters and {@code ##} letters and digits (default: off). */
  public VocabularyBuilder characters(boolean on) {
    this.characters = on;
    return this;
  }

  /** Adds every word of {@code text} (special tokens written in it are skipped: they are in the layout already). */
  public VocabularyBuilder add(String text) {
    collect(text, words);
    return this;
  }

  /** Adds the words of {@code text} that {@link #add} did not, in a block after all of those (class comment). */
  public VocabularyBuilder addLater(String text) {
    collect(text, laterWords);
    return this;
  }

  private void collect(String text, TreeSet<String> into) {
    List<String> out = new ArrayList<>();
    basic.tokenize(text, out);
    for (String w : out) {
      if (Vocabulary.SPECIALS.contains(w)) continue;
      if (w.codePointCount(0, w.length()) <= BertTokenizer.MAX_CHARS_PER_WORD) into.add(w);
    }
  }

  public VocabularyBuilder addAll(Iterable<String> texts) {
    for (String t : texts) add(t);
    return this;
  }

  /** The id of the first dataset piece: 104, or 999 with {@link #bertUnused}. */
  public int firstPiece() {
    return Vocabulary.SPECIALS.size() + (bertUnused ? BERT_UNUSED_TOKENS : UNUSED_BEFORE_UNK);
  }

  /** The tokens in id order. */
  public List<String> tokens() {
    TreeSet<String> pieces = new TreeSet<>(words);
    if (characters) {
      for (char c = '!'; c <= '~'; c++) {
        if (c >= 'A' && c <= 'Z') continue;  // uncased: the tokenizer lower-cases first
        pieces.add(String.valueOf(c));
        if (Character.isLetterOrDigit(c)) pieces.add("##" + c);
      }
    }
    List<String> tokens = new ArrayList<>(firstPiece() + pieces.size());
    tokens.add(Vocabulary.PAD);
    for (int i = 0; i < UNUSED_BEFORE_UNK; i++) tokens.add("[unused" + i + "]");
    tokens.add(Vocabulary.UNK);
    tokens.add(Vocabulary.CLS);
    tokens.add(Vocabulary.SEP);
    tokens.add(Vocabulary.MASK);
    if (bertUnused) for (int i = UNUSED_BEFORE_UNK; i < BERT_UNUSED_TOKENS; i++) tokens.add("[unused" + i + "]");
    tokens.addAll(pieces);
    for (String w : laterWords) if (!pieces.contains(w)) tokens.add(w);
    return tokens;
  }

  public Vocabulary build() {
    return Vocabulary.of(tokens());
  }

  /** Writes the tokens, one per line (UTF-8, '\n'), atomically; returns the vocabulary size. */
  public int write(Path file) {
    List<String> tokens = tokens();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.write(tmp, (String.join("\n", tokens) + "\n").getBytes(StandardCharsets.UTF_8));
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write vocabulary " + file + ": " + e.getMessage(), e);
    }
    return tokens.size();
  }
}
