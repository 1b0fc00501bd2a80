package dev.mplug.serve;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code multipart/form-data} body (RFC 7578) split into its parts: each part's field name, file name if any, and
 * bytes. Enough for HTML forms and {@code curl -F}; a malformed body is a 400 naming what is wrong.
 */
final class Multipart {
  /** One form field. */
  record Part(String name, String filename, byte[] content) {
    String text() {
      return new String(content, StandardCharsets.UTF_8);
    }
  }

  private static final Pattern BOUNDARY = Pattern.compile("boundary=(?:\"([^\"]+)\"|([^;\\s]+))");
  private static final Pattern NAME = Pattern.compile("\\bname=\"([^\"]*)\"");
  private static final Pattern FILENAME = Pattern.compile("\\bfilename=\"([^\"]*)\"");
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};

  private Multipart() {}

  /** The parts of {@code body}, sent with {@code contentType} ({@code multipart/form-data; boundary=...}). */
  static List<Part> parse(byte[] body, String contentType) {
    Matcher m = BOUNDARY.matcher(contentType);
    if (!m.find()) throw new HttpError(400, "multipart/form-data without a boundary");
    byte[] delimiter = ("--" + (m.group(1) != null ? m.group(1) : m.group(2))).getBytes(StandardCharsets.ISO_8859_1);
    byte[] next = concat(CRLF, delimiter);
    int at = indexOf(body, delimiter, 0);
    if (at < 0) throw new HttpError(400, "multipart body without its boundary");
    List<Part> parts = new ArrayList<>();
    at += delimiter.length;
    while (true) {
      if (startsWith(body, at, new byte[] {'-', '-'})) return parts;                     // the closing delimiter
      if (!startsWith(body, at, CRLF)) throw new HttpError(400, "malformed multipart body (no line break after a "
          + "boundary)");
      int headers = at + 2;
      int headerEnd = indexOf(body, HEADER_END, headers);
      if (headerEnd < 0) throw new HttpError(400, "malformed multipart body (a part's headers do not end)");
      int end = indexOf(body, next, headerEnd + 4);
      if (end < 0) throw new HttpError(400, "malformed multipart body (a part does not end with the boundary)");
      String head = new String(body, headers, headerEnd - headers, StandardCharsets.UTF_8);
      parts.add(part(head, Arrays.copyOfRange(body, headerEnd + 4, end)));
      at = end + next.length;
    }
  }

  private static Part part(String headers, byte[] content) {
    for (String line : headers.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-disposition:")) {
        Matcher name = NAME.matcher(line);
        if (!name.find()) throw new HttpError(400, "a multipart part has no field name");
        Matcher file = FILENAME.matcher(line);
        return new Part(name.group(1), file.find() ? file.group(1) : null, content);
      }
    }
    throw new HttpError(400, "a multipart part has no Content-Disposition header");
  }

  private static boolean startsWith(byte[] data, int at, byte[] prefix) {
    if (at + prefix.length > data.length) return false;
    for (int i = 0; i < prefix.length; i++) if (data[at + i] != prefix[i]) return false;
    return true;
  }

  private static int indexOf(byte[] data, byte[] pattern, int from) {
    for (int i = from; i <= data.length - pattern.length; i++) if (startsWith(data, i, pattern)) return i;
    return -1;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
