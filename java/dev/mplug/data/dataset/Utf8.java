package dev.mplug.data.dataset;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Strict UTF-8 decoding that remembers where the bad byte sequences were, so that one caption with invalid UTF-8
 * spoils only its own sample (reported with its line), not the whole annotation file.
 */
final class Utf8 {
  private Utf8() {}

  /**
   * Decoded text; {@code badChars[k]} is the char offset in {@code text} where the k-th invalid byte sequence was
   * (replaced there by U+FFFD), {@code badBytes[k]} its byte offset in the input.
   */
  record Decoded(String text, int[] badChars, long[] badBytes) {
    boolean clean() {
      return badChars.length == 0;
    }

    /** Index of the first bad sequence at char offset in [from, to), or -1. */
    int firstBadIn(long from, long to) {
      int k = Arrays.binarySearch(badChars, (int) Math.min(Integer.MAX_VALUE, from));
      if (k < 0) k = -k - 1;
      return k < badChars.length && badChars[k] < to ? k : -1;
    }
  }

  static Decoded decode(byte[] bytes, int from, int to) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, from, to - from);
    CharBuffer out = CharBuffer.allocate(to - from + 1);    // UTF-8 never yields more UTF-16 units than bytes
    int[] badChars = new int[0];
    long[] badBytes = new long[0];
    while (true) {
      CoderResult r = decoder.decode(in, out, true);
      if (r.isError()) {
        badChars = Arrays.copyOf(badChars, badChars.length + 1);
        badBytes = Arrays.copyOf(badBytes, badBytes.length + 1);
        badChars[badChars.length - 1] = out.position();
        badBytes[badBytes.length - 1] = in.position();
        out.put('\uFFFD');
        in.position(in.position() + r.length());
      } else if (r.isUnderflow()) {
        decoder.flush(out);
        break;
      } else {
        throw new IllegalStateException("UTF-8 decoding overflowed its buffer: " + r);
      }
    }
    out.flip();
    return new Decoded(out.toString(), badChars, badBytes);
  }
}
