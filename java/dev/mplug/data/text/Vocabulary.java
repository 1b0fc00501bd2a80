package dev.mplug.data.text;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT WordPiece vocabulary: one token per line of {@code vocab.txt}, the id being the line number (from 0), as in
 * bert-base-uncased. Continuation pieces carry the {@code ##} prefix. The five special tokens must be present.
 */
public final class Vocabulary {
  public static final String PAD = "[PAD]";
  public static final String UNK = "[UNK]";
  public static final String CLS = "[CLS]";
  public static final String SEP = "[SEP]";
  public static final String MASK = "[MASK]";
  /** The special tokens in bert-base-uncased's order of ids ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103). */
  public static final List<String> SPECIALS = List.of(PAD, UNK, CLS, SEP, MASK);

  private final List<String> tokens;
  private final Map<String, Integer> ids;
  private final String origin;
  private final int pad;
  private final int unk;
  private final int cls;
  private final int sep;
  private final int mask;

  private Vocabulary(List<String> tokens, String origin) {
    this.tokens = List.copyOf(tokens);
    this.origin = origin;
    this.ids = new HashMap<>(tokens.size() * 2);
    // Like Hugging Face's load_vocab: a repeated token maps to its last line.
    for (int i = 0; i < tokens.size(); i++) ids.put(tokens.get(i), i);
    this.pad = required(PAD);
    this.unk = required(UNK);
    this.cls = required(CLS);
    this.sep = required(SEP);
    this.mask = required(MASK);
  }

  /** Reads a {@code vocab.txt} (strict UTF-8; a bad byte sequence or a missing special token is a clear error). */
  public static Vocabulary load(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("vocabulary file " + file + " does not exist");
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read vocabulary file " + file + ": " + e.getMessage(), e);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("vocabulary file " + file + " is not valid UTF-8: " + e.getMessage(), e);
    }
    // Lines end at \n, \r\n or \r, like Python's universal newlines in Hugging Face's load_vocab.
    List<String> lines = text.lines().toList();
    if (lines.isEmpty()) throw new IllegalArgumentException("vocabulary file " + file + " is empty");
    return new Vocabulary(lines, file.toString());
  }

  /** A vocabulary from tokens in id order (tests, synthetic vocabularies). */
  public static Vocabulary of(List<String> tokens) {
    return new Vocabulary(tokens, "in-memory vocabulary");
  }

  private int required(String token) {
    Integer id = ids.get(token);
    if (id == null) {
      throw new IllegalArgumentException(origin + " has no " + token + " token (a BERT vocabulary needs "
          + String.join(" ", SPECIALS) + ")");
    }
    return id;
  }

  public int size() {
    return tokens.size();
  }

  /** The id of {@code token}, or -1 when it is not in the vocabulary. */
  public int id(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
  }

  /** The id of {@code token}, or [UNK]'s id. */
  public int idOrUnk(String token) {
    Integer id = ids.get(token);
    return id == null ? unk : id;
  }

  public String token(int id) {
    if (id < 0 || id >= tokens.size()) {
      throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + tokens.size() + ")");
    }
    return tokens.get(id);
  }

  /** Whether {@code id} is one of the five special tokens. */
  public boolean isSpecial(int id) {
    return id == pad || id == unk || id == cls || id == sep || id == mask;
  }

  public int padId() {
    return pad;
  }

  public int unkId() {
    return unk;
  }

  public int clsId() {
    return cls;
  }

  public int sepId() {
    return sep;
  }

  public int maskId() {
    return mask;
  }

  /** Token to id, for the word-piece matcher (read only). */
  Map<String, Integer> ids() {
    return ids;
  }
}
