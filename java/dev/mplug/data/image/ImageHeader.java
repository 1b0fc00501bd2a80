package dev.mplug.data.image;

import dev.mplug.data.BadSampleException;
import java.nio.charset.StandardCharsets;

/**
 * What the first bytes of an encoded image say before anything is decoded: the format and the pixel dimensions, plus
 * whether the file is complete. Reading the header first is what stops a decompression bomb (a few kilobytes that
 * claim 50000 x 50000 pixels) before OpenCV allocates for it, and catches truncated JPEGs that libjpeg would
 * otherwise "decode" with a grey bottom half and only a warning on stderr.
 *
 * <p>Formats: JPEG (SOF marker), PNG (IHDR), WebP (VP8 / VP8L / VP8X), BMP (BITMAPINFOHEADER or OS/2 core header).
 */
public record ImageHeader(Format format, int width, int height) {

  public enum Format { JPEG, PNG, WEBP, BMP }

  public long pixels() {
    return (long) width * height;
  }

  /**
   * Parses the header of {@code b}; throws {@link BadSampleException} naming {@code source} for empty, unrecognised,
   * malformed or truncated data.
   */
  public static ImageHeader parse(byte[] b, String source) {
    if (b.length == 0) throw new BadSampleException(source, "empty file (0 bytes)");
    ImageHeader h;
    if (startsWith(b, 0xFF, 0xD8, 0xFF)) {
      h = jpeg(b, source);
    } else if (startsWith(b, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      h = png(b, source);
    } else if (startsWith(b, 'R', 'I', 'F', 'F') && b.length >= 12 && b[8] == 'W' && b[9] == 'E' && b[10] == 'B'
        && b[11] == 'P') {
      h = webp(b, source);
    } else if (startsWith(b, 'B', 'M')) {
      h = bmp(b, source);
    } else {
      throw new BadSampleException(source, "not a JPEG, PNG, WebP or BMP image (" + b.length + " bytes starting "
          + preview(b) + ")");
    }
    if (h.width <= 0 || h.height <= 0) {
      throw new BadSampleException(source, h.format + " header gives an empty image (" + h.width + " x " + h.height
          + ")");
    }
    return h;
  }

  // JPEG: walk the marker segments up to the first SOS (start of scan); the frame size is in the SOFn segment.
  // Entropy-coded data never contains FF D9 (an FF byte there is followed by 00 or a restart marker), so a file
  // without EOI (FF D9) after the first SOS is truncated.
  private static ImageHeader jpeg(byte[] b, String source) {
    int pos = 2;
    int width = -1;
    int height = -1;
    while (true) {
      if (pos + 4 > b.length) throw new BadSampleException(source, "truncated JPEG (header ends at byte " + pos + ")");
      if ((b[pos] & 0xFF) != 0xFF) {
        throw new BadSampleException(source, "malformed JPEG (no marker at byte " + pos + ")");
      }
      int marker = b[pos + 1] & 0xFF;
      if (marker == 0xFF) { // fill byte
        pos++;
        continue;
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { // standalone markers carry no length
        pos += 2;
        continue;
      }
      int length = u16be(b, pos + 2);
      if (length < 2 || pos + 2 + length > b.length) {
        throw new BadSampleException(source, "truncated JPEG (segment at byte " + pos + " runs past the end)");
      }
      boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        if (length < 7) throw new BadSampleException(source, "malformed JPEG (short SOF segment)");
        height = u16be(b, pos + 5);
        width = u16be(b, pos + 7);
      }
      if (marker == 0xDA) { // start of scan: image data follows
        if (width < 0) throw new BadSampleException(source, "malformed JPEG (no SOF frame header before the scan)");
        if (lastIndexOf(b, 0xFF, 0xD9) < pos) {
          throw new BadSampleException(source, "truncated JPEG (no end-of-image marker; " + b.length + " bytes)");
        }
        return new ImageHeader(Format.JPEG, width, height);
      }
      if (marker == 0xD9) throw new BadSampleException(source, "malformed JPEG (ends before any image data)");
      pos += 2 + length;
    }
  }

  // PNG: IHDR is the first chunk; a complete file ends with the IEND chunk.
  private static ImageHeader png(byte[] b, String source) {
    if (b.length < 24 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') {
      throw new BadSampleException(source, "truncated or malformed PNG (no IHDR chunk)");
    }
    long w = u32be(b, 16);
    long h = u32be(b, 20);
    if (lastIndexOf(b, 'I', 'E', 'N', 'D') < 24) {
      throw new BadSampleException(source, "truncated PNG (no IEND chunk; " + b.length + " bytes)");
    }
    return new ImageHeader(Format.PNG, clampInt(w), clampInt(h));
  }

  // WebP: RIFF size covers the file; the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
  private static ImageHeader webp(byte[] b, String source) {
    long riffSize = u32le(b, 4);
    if (riffSize + 8 > b.length) {
      throw new BadSampleException(source, "truncated WebP (RIFF says " + (riffSize + 8) + " bytes, file has "
          + b.length + ")");
    }
    if (b.length < 30) throw new BadSampleException(source, "truncated WebP (no image chunk)");
    String chunk = new String(b, 12, 4, StandardCharsets.US_ASCII);
    return switch (chunk) {
      case "VP8 " -> {
        if ((b[23] & 0xFF) != 0x9D || (b[24] & 0xFF) != 0x01 || (b[25] & 0xFF) != 0x2A) {
          throw new BadSampleException(source, "malformed WebP (bad VP8 start code)");
        }
        yield new ImageHeader(Format.WEBP, u16le(b, 26) & 0x3FFF, u16le(b, 28) & 0x3FFF);
      }
      case "VP8L" -> {
        if ((b[20] & 0xFF) != 0x2F) throw new BadSampleException(source, "malformed WebP (bad VP8L signature)");
        long bits = u32le(b, 21);
        yield new ImageHeader(Format.WEBP, (int) (bits & 0x3FFF) + 1, (int) ((bits >>> 14) & 0x3FFF) + 1);
      }
      case "VP8X" -> new ImageHeader(Format.WEBP, u24le(b, 24) + 1, u24le(b, 27) + 1);
      default -> throw new BadSampleException(source, "malformed WebP (unknown first chunk '" + chunk + "')");
    };
  }

  // BMP: file header (14 bytes) then the DIB header; height is negative for top-down bitmaps.
  private static ImageHeader bmp(byte[] b, String source) {
    if (b.length < 26) throw new BadSampleException(source, "truncated BMP (" + b.length + " bytes)");
    long declared = u32le(b, 2);
    if (declared > b.length) {
      throw new BadSampleException(source, "truncated BMP (header says " + declared + " bytes, file has " + b.length
          + ")");
    }
    long dib = u32le(b, 14);
    if (dib == 12) return new ImageHeader(Format.BMP, u16le(b, 18), u16le(b, 20));
    if (dib < 40) throw new BadSampleException(source, "malformed BMP (DIB header of " + dib + " bytes)");
    int w = (int) u32le(b, 18);
    int h = (int) u32le(b, 22);
    return new ImageHeader(Format.BMP, w, h == Integer.MIN_VALUE ? Integer.MAX_VALUE : Math.abs(h));
  }

  private static boolean startsWith(byte[] b, int... prefix) {
    if (b.length < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) {
      if ((b[i] & 0xFF) != prefix[i]) return false;
    }
    return true;
  }

  private static int lastIndexOf(byte[] b, int... pattern) {
    outer:
    for (int i = b.length - pattern.length; i >= 0; i--) {
      for (int k = 0; k < pattern.length; k++) {
        if ((b[i + k] & 0xFF) != pattern[k]) continue outer;
      }
      return i;
    }
    return -1;
  }

  private static String preview(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(8, b.length); i++) s.append(String.format("%02x", b[i] & 0xFF));
    return s.toString();
  }

  private static int clampInt(long v) {
    return (int) Math.min(v, Integer.MAX_VALUE);
  }

  private static int u16be(byte[] b, int i) {
    return ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
  }

  private static long u32be(byte[] b, int i) {
    return ((long) u16be(b, i) << 16) | u16be(b, i + 2);
  }

  private static int u16le(byte[] b, int i) {
    return (b[i] & 0xFF) | ((b[i + 1] & 0xFF) << 8);
  }

  private static int u24le(byte[] b, int i) {
    return u16le(b, i) | ((b[i + 2] & 0xFF) << 16);
  }

  private static long u32le(byte[] b, int i) {
    return u16le(b, i) | ((long) u16le(b, i + 2) << 16);
  }
}
