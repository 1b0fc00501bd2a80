package dev.mplug.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.mplug.data.BadSampleException;
import dev.mplug.data.loader.TooManyBadSamplesException;
import dev.mplug.torch.TorchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.UndeclaredThrowableException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How a command ends when something is thrown: an exit code and the one line printed as
 * {@code mplug <command>: <reason>}. The one place that decides which failures are the user's to fix and which are
 * bugs.
 *
 * <p>Exit codes: {@value #OK} success; {@value #CHECK_FAILED} the command ran and its check failed (e.g. {@code mplug
 * forward} beyond tolerance); {@value #USER} the user's to fix: bad arguments, configs, files, checkpoints, too many
 * bad samples, too little memory, CUDA asked for but absent; {@value #INTERNAL} (sysexits' EX_SOFTWARE) an internal
 * error, i.e. a bug: any other exception.
 */
record Failure(int exitCode, String reason) {
  static final int OK = 0;
  static final int CHECK_FAILED = 1;
  static final int USER = 2;
  static final int INTERNAL = 70;

  /** c10's CPU allocator: "DefaultCPUAllocator: can't allocate memory: you tried to allocate 123 bytes. ...". */
  private static final Pattern CPU_ALLOC =
      Pattern.compile("(?:can't allocate memory|not enough memory): you tried to allocate (\\d+) bytes");
  /** c10's CUDA caching allocator: "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; ...". */
  private static final Pattern CUDA_ALLOC =
      Pattern.compile("CUDA out of memory\\. Tried to allocate ([0-9.]+ ?[KMGTP]?i?B)");
  private static final String SMALLER = "use a smaller batch (data.batch_size in the config, e.g. --set "
      + "data.batch_size=8; --batch for bench), smaller images or a smaller model";

  /** A command-line parsing error: the reason plus where to look, on one line. */
  static Failure usage(ParameterException e) {
    String message = oneLine(e.getMessage());
    StringBuilder reason = new StringBuilder(message.endsWith(".") ? message.substring(0, message.length() - 1)
        : message);
    if (e instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
      reason.append(" (did you mean ").append(String.join(" or ", u.getSuggestions())).append("?)");
    }
    String command = e.getCommandLine().getCommandSpec().qualifiedName();
    reason.append("; see '").append(command).append(" --help'");
    return new Failure(USER, reason.toString());
  }

  /** What {@code thrown} means for the user. */
  static Failure of(Throwable thrown) {
    Throwable e = unwrap(thrown);
    String oom = nativeOutOfMemory(e);
    if (oom != null) return new Failure(USER, oom);
    if (e instanceof OutOfMemoryError) {
      return new Failure(USER, String.format(Locale.ROOT, "out of memory in the JVM (%s, max heap %s): %s, or give "
          + "the JVM more, e.g. MPLUG_JAVA_OPTS=-Xmx16g", oneLine(e.getMessage()),
          bytes(Runtime.getRuntime().maxMemory()), SMALLER));
    }
    if (e instanceof ParameterException p) return usage(p);
    if (e instanceof IllegalArgumentException || e instanceof IOException || e instanceof UncheckedIOException
        || e instanceof TorchException || e instanceof TooManyBadSamplesException || e instanceof BadSampleException) {
      return new Failure(USER, oneLine(plain(e)));
    }
    return new Failure(INTERNAL, "internal error: " + e.getClass().getName()
        + (e.getMessage() == null ? "" : ": " + oneLine(e.getMessage())) + " (run with --debug for the trace)");
  }

  /**
   * The message, with the parts Java and Jackson leave cryptic spelled out wherever they were pasted in: a bare path
   * from NIO (whose problem is only in the class name: "/x" becomes "/x: permission denied") and Jackson's two-line
   * parse errors ("... at line 2, column 1").
   */
  static String plain(Throwable e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String raw = t.getMessage();
      String better = null;
      if (t instanceof FileSystemException f && f.getReason() == null) better = raw + ": " + problem(f);
      if (t instanceof JsonProcessingException j) better = json(j);
      if (better == null) continue;
      int at = raw == null ? -1 : m.lastIndexOf(raw);
      m = m.isEmpty() ? better : at < 0 ? m : m.substring(0, at) + better + m.substring(at + raw.length());
    }
    return m;
  }

  private static String problem(FileSystemException f) {
    return switch (f) {
      case NoSuchFileException x -> "no such file or folder";
      case AccessDeniedException x -> "permission denied";
      case NotDirectoryException x -> "not a folder";
      case FileAlreadyExistsException x -> "already exists";
      case DirectoryNotEmptyException x -> "folder not empty";
      default -> f.getClass().getSimpleName();
    };
  }

  private static String json(JsonProcessingException j) {
    StringBuilder b = new StringBuilder(oneLine(j.getOriginalMessage()));
    JsonLocation at = j.getLocation();
    if (at != null && at.getLineNr() > 0) {
      b.append(" at line ").append(at.getLineNr()).append(", column ").append(at.getColumnNr());
    }
    return b.toString();
  }

  /**
   * Looks through wrappers that add nothing: "it happened elsewhere" (another thread, reflection) or no message of
   * their own (Java's {@code new XException(cause)} takes {@code cause.toString()} as its message).
   */
  private static Throwable unwrap(Throwable e) {
    while (e.getCause() != null && e.getCause() != e
        && (e instanceof ExecutionException || e instanceof CompletionException
            || e instanceof InvocationTargetException || e instanceof UndeclaredThrowableException
            || e.getCause().toString().equals(e.getMessage()))) {
      e = e.getCause();
    }
    return e;
  }

  /** A one-line reason when libtorch's allocator failed anywhere in the cause chain, else null. */
  static String nativeOutOfMemory(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      if (m == null) continue;
      Matcher cpu = CPU_ALLOC.matcher(m);
      if (cpu.find()) {
        return "out of memory: libtorch could not allocate " + bytes(Long.parseLong(cpu.group(1))) + " for a tensor "
            + "(DefaultCPUAllocator); " + SMALLER;
      }
      Matcher cuda = CUDA_ALLOC.matcher(m);
      if (cuda.find()) {
        return "out of GPU memory: libtorch could not allocate " + cuda.group(1) + " on the GPU; " + SMALLER;
      }
    }
    return null;
  }

  /** The first line of a message, saying how many more there are (some messages append a config, a listing). */
  static String oneLine(String message) {
    if (message == null || message.isBlank()) return "(no message)";
    int backtrace = message.indexOf("\nException raised from");   // libtorch's C++ backtrace: never for users
    String s = (backtrace >= 0 ? message.substring(0, backtrace) : message).strip();
    int nl = s.indexOf('\n');
    if (nl < 0) return s;
    String first = s.substring(0, nl).strip();
    if (first.endsWith(":")) first = first.substring(0, first.length() - 1);
    long more = s.substring(nl + 1).lines().filter(l -> !l.isBlank()).count();
    return first + " (" + more + " more line" + (more == 1 ? "" : "s") + " with --debug)";
  }

  /** 1536 -> "1.5 KiB", 100 -> "100 bytes". */
  static String bytes(long n) {
    String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = n;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? n + " bytes" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
