package dev.mplug.data.text;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * The bert-base-uncased tokenizer: special tokens written in the text are kept whole, the rest goes through
 * {@link BasicTokenizer} (clean-up, lower-casing, accent stripping, punctuation and CJK splitting) and then
 * {@link WordPiece} (greedy longest match with {@code ##} continuations, [UNK] for what cannot be covered).
 *
 * <p>{@link #encode} and {@link #encodeBatch} add {@code [CLS] ... [SEP]}, truncate the pieces so that the whole fits
 * the maximum length (the [SEP] survives truncation, as with Hugging Face's {@code truncation=True}) and pad with
 * [PAD]. Thread-safe: all state is read-only after construction.
 */
public final class BertTokenizer {
  /** Words longer than this (in code points) become [UNK], as in BERT. */
  public static final int MAX_CHARS_PER_WORD = 100;

  private final Vocabulary vocab;
  private final BasicTokenizer basic;
  private final WordPiece wordPiece;

  public BertTokenizer(Vocabulary vocab) {
    this.vocab = vocab;
    this.basic = new BasicTokenizer(true, new HashSet<>(Vocabulary.SPECIALS));
    this.wordPiece = new WordPiece(vocab, MAX_CHARS_PER_WORD);
  }

  /** The uncased tokenizer over a {@code vocab.txt} file. */
  public static BertTokenizer load(Path vocabFile) {
    return new BertTokenizer(Vocabulary.load(vocabFile));
  }

  public Vocabulary vocabulary() {
    return vocab;
  }

  /** The word pieces of {@code text}, without [CLS]/[SEP]. */
  public List<String> tokenize(String text) {
    IntList ids = new IntList(text.length() / 4 + 4);
    appendIds(text, ids);
    List<String> out = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) out.add(vocab.token(ids.get(i)));
    return out;
  }

  /** The ids of the word pieces of {@code text}, without [CLS]/[SEP]. */
  public int[] tokenIds(String text) {
    IntList ids = new IntList(text.length() / 4 + 4);
    appendIds(text, ids);
    return ids.toArray();
  }

  /** {@code [CLS] pieces [SEP]} truncated to {@code maxLen} and padded to exactly {@code maxLen}. */
  public Encoding encode(String text, int maxLen) {
    int[] real = withSpecials(text, maxLen);
    int[] ids = new int[maxLen];
    int[] mask = new int[maxLen];
    Arrays.fill(ids, vocab.padId());
    System.arraycopy(real, 0, ids, 0, real.length);
    Arrays.fill(mask, 0, real.length, 1);
    return new Encoding(ids, mask);
  }

  /**
   * Encodes a batch into {@code [B, T]} ids and attention mask; T = {@code maxLen} for {@link Padding#MAX_LENGTH}, or
   * the longest (truncated) text of the batch for {@link Padding#LONGEST}.
   */
  public TokenBatch encodeBatch(List<String> texts, int maxLen, Padding padding) {
    if (texts.isEmpty()) throw new IllegalArgumentException("cannot encode an empty batch of texts");
    int[][] rows = new int[texts.size()][];
    int longest = 0;
    for (int i = 0; i < rows.length; i++) {
      rows[i] = withSpecials(texts.get(i), maxLen);
      longest = Math.max(longest, rows[i].length);
    }
    int t = padding == Padding.MAX_LENGTH ? maxLen : longest;
    long[] ids = new long[rows.length * t];
    long[] mask = new long[rows.length * t];
    Arrays.fill(ids, vocab.padId());
    for (int i = 0; i < rows.length; i++) {
      for (int j = 0; j < rows[i].length; j++) {
        ids[i * t + j] = rows[i][j];
        mask[i * t + j] = 1;
      }
    }
    return new TokenBatch(rows.length, t, ids, mask);
  }

  /** Text from ids: special tokens skipped, {@code ##} pieces joined to the word before them. */
  public String decode(int[] ids) {
    StringBuilder out = new StringBuilder(ids.length * 4);
    for (int id : ids) appendDecoded(id, out);
    return out.toString();
  }

  /** {@link #decode(int[])} for int64 ids as they come out of a tensor. */
  public String decode(long[] ids) {
    StringBuilder out = new StringBuilder(ids.length * 4);
    for (long id : ids) {
      if (id < 0 || id >= vocab.size()) {
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab.size() + ")");
      }
      appendDecoded((int) id, out);
    }
    return out.toString();
  }

  private void appendDecoded(int id, StringBuilder out) {
    if (vocab.isSpecial(id)) return;
    String piece = vocab.token(id);
    if (piece.startsWith("##") && !out.isEmpty()) {
      out.append(piece, 2, piece.length());
    } else {
      if (!out.isEmpty()) out.append(' ');
      out.append(piece);
    }
  }

  private int[] withSpecials(String text, int maxLen) {
    if (maxLen < 2) throw new IllegalArgumentException("maxLen must be >= 2 to hold [CLS] and [SEP], got " + maxLen);
    IntList ids = new IntList(Math.min(maxLen, text.length() / 4 + 4));
    ids.add(vocab.clsId());
    appendIds(text, ids);
    if (ids.size() > maxLen - 1) ids.truncate(maxLen - 1);
    ids.add(vocab.sepId());
    return ids.toArray();
  }

  /**
   * Special tokens written in the text ({@code "red[SEP]yes"}) are matched exactly (case-sensitive) and kept whole,
   * as Hugging Face's tokenizer does before basic tokenisation; the text between them is tokenised normally.
   */
  private void appendIds(String text, IntList out) {
    List<String> words = new ArrayList<>();
    int from = 0;
    int bracket = text.indexOf('[');
    while (bracket >= 0) {
      String special = specialAt(text, bracket);
      if (special != null) {
        basic.tokenize(text.substring(from, bracket), words);
        words.add(special);
        from = bracket + special.length();
      }
      bracket = text.indexOf('[', special != null ? from : bracket + 1);
    }
    basic.tokenize(from == 0 ? text : text.substring(from), words);
    for (String w : words) {
      int special = w.charAt(0) == '[' && Vocabulary.SPECIALS.contains(w) ? vocab.id(w) : -1;
      if (special >= 0) {
        out.add(special);
      } else {
        wordPiece.encode(w, out);
      }
    }
  }

  private static String specialAt(String text, int at) {
    for (String s : Vocabulary.SPECIALS) if (text.startsWith(s, at)) return s;
    return null;
  }
}
