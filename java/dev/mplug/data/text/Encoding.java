package dev.mplug.data.text;

/**
 * One encoded text: {@code [CLS] pieces [SEP] [PAD]...} ids and the attention mask (1 = real token, 0 = padding), both
 * of the padded length.
 */
public record Encoding(int[] ids, int[] mask) {
  public Encoding {
    if (ids.length != mask.length) {
      throw new IllegalArgumentException(ids.length + " ids but " + mask.length + " mask entries");
    }
  }

  /** Number of real (unpadded) tokens, [CLS] and [SEP] included. */
  public int length() {
    int n = 0;
    for (int m : mask) n += m;
    return n;
  }
}
