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
 * when the real vocabulary is not at hand: the same ids for everything the model hard-codes, then just the pieces the
 * dataset needs.
 *
 * <ul>
 *   <li>ids 0..998 exactly as bert-base-uncased: [PAD] 0, [unused0..98] 1..99, [UNK] 100, [CLS] 101, [SEP] 102,
 *       [MASK] 103, [unused99..993] 104..998 (generation starts at [CLS] and stops at [SEP]; grounding's coordinate
 *       tokens are [unused339..676]);</li>
 *   <li>then, sorted: every word the texts contain after basic tokenisation (lower-cased, accents stripped,
 *       punctuation split off) as a whole word, each printable ASCII character but the capitals, and {@code ##} + each letter and
 *       digit, so a word the dataset never used is still spelled out rather than lost to [UNK].</li>
 * </ul>
 * Feed it the texts as the model will read them (cleaned captions and questions, answers).
 */
public final class VocabularyBuilder {
  /** [unused0] .. [unused993], as in bert-base-uncased. */
  public static final int UNUSED_TOKENS = 994;
  /** Ids below this are the fixed BERT layout; the dataset's pieces start here. */
  public static final int FIRST_PIECE = UNUSED_TOKENS + Vocabulary.SPECIALS.size();

  private final BasicTokenizer basic = new BasicTokenizer(true, Set.copyOf(Vocabulary.SPECIALS));
  private final TreeSet<String> pieces = new TreeSet<>();

  public VocabularyBuilder() {
    for (char c = '!'; c <= '~'; c++) {
      if (c >= 'A' && c <= 'Z') continue;  // uncased: the tokenizer lower-cases first
      pieces.add(String.valueOf(c));
      if (Character.isLetterOrDigit(c)) pieces.add("##" + c);
    }
  }

  /** Adds every word of {@code text} (special tokens written in it are skipped: they are in the layout already). */
  public VocabularyBuilder add(String text) {
    List<String> words = new ArrayList<>();
    basic.tokenize(text, words);
    for (String w : words) {
      if (Vocabulary.SPECIALS.contains(w)) continue;
      if (w.codePointCount(0, w.length()) <= BertTokenizer.MAX_CHARS_PER_WORD) pieces.add(w);
    }
    return this;
  }

  public VocabularyBuilder addAll(Iterable<String> texts) {
    for (String t : texts) add(t);
    return this;
  }

  /** The tokens in id order. */
  public List<String> tokens() {
    List<String> tokens = new ArrayList<>(FIRST_PIECE + pieces.size());
    tokens.add(Vocabulary.PAD);
    for (int i = 0; i < 99; i++) tokens.add("[unused" + i + "]");
    tokens.add(Vocabulary.UNK);
    tokens.add(Vocabulary.CLS);
    tokens.add(Vocabulary.SEP);
    tokens.add(Vocabulary.MASK);
    for (int i = 99; i < UNUSED_TOKENS; i++) tokens.add("[unused" + i + "]");
    tokens.addAll(pieces);
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
