package dev.mplug.profile;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ranges of a run as a Chrome trace: the JSON trace event format that ui.perfetto.dev (and chrome://tracing)
 * opens. Each closed range becomes a complete event ({@code "ph": "X"}) with its name, start {@code ts} and duration
 * {@code dur} in microseconds, this process's id as {@code pid} and its thread's id as {@code tid}; metadata events
 * name the process and every thread. Nesting is by time: a range lies inside its parent's interval on the same
 * thread, and the events of a thread are written in start order, parents before their children.
 *
 * <p>Timestamps are microseconds since the trace started, to the nanosecond (three decimals, exact after the viewer's
 * conversion to integer nanoseconds, so nesting survives it); {@code otherData.start_epoch_us} says when that was, to
 * line up the traces of several ranks. Ranges still open when the trace is
 * written are left out; past {@link #MAX_EVENTS} ranges, further ones are counted (as {@code dropped_ranges} in
 * {@code otherData}), not kept. Started by {@link Profiler#startTrace}; written by {@link #close}.
 */
public final class ChromeTrace implements AutoCloseable {
  /** The most ranges kept in memory (about 120 bytes each in the file). */
  public static final int MAX_EVENTS = 2_000_000;
  private static final JsonFactory JSON = new JsonFactory();

  /** One closed range of a thread; times from {@link System#nanoTime}. */
  private record Event(String name, long startNanos, long endNanos, int depth) {}

  private final Path file;
  private final String processName;
  private final long pid = ProcessHandle.current().pid();
  private final long startNanos;
  private final long startEpochMicros;
  private final List<ThreadTrack> tracks = new CopyOnWriteArrayList<>();
  private final ThreadLocal<ThreadTrack> track = ThreadLocal.withInitial(this::newTrack);
  private final AtomicInteger kept = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();

  ChromeTrace(Path file, String processName) {
    Path parent = file.toAbsolutePath().getParent();
    try {
      Files.createDirectories(parent);
    } catch (IOException e) {
      throw new IllegalArgumentException("profile " + file + ": its folder cannot be created ("
          + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
    }
    if (Files.isDirectory(file) || !Files.isWritable(parent) || (Files.exists(file) && !Files.isWritable(file))) {
      throw new IllegalArgumentException("profile " + file + ": not a writable file");
    }
    this.file = file;
    this.processName = processName;
    Instant now = Instant.now();
    this.startNanos = System.nanoTime();
    this.startEpochMicros = ChronoUnit.MICROS.between(Instant.EPOCH, now);
  }

  public Path file() {
    return file;
  }

  /** Ranges closed and kept so far. */
  public int ranges() {
    return kept.get();
  }

  void begin(String name) {
    track.get().begin(name, System.nanoTime());
  }

  void end() {
    track.get().end(System.nanoTime());
  }

  private ThreadTrack newTrack() {
    Thread t = Thread.currentThread();
    ThreadTrack created = new ThreadTrack(t.threadId(), t.getName());
    tracks.add(created);
    return created;
  }

  /** Stops recording and writes the file. */
  @Override
  public void close() {
    Profiler.stopTrace(this);
    try (JsonGenerator out = JSON.createGenerator(file.toFile(), JsonEncoding.UTF8)) {
      out.writeStartObject();
      out.writeStringField("displayTimeUnit", "ms");
      out.writeObjectFieldStart("otherData");
      out.writeStringField("producer", "mplug-java");
      out.writeNumberField("start_epoch_us", startEpochMicros);
      out.writeNumberField("dropped_ranges", dropped.get());
      out.writeEndObject();
      out.writeArrayFieldStart("traceEvents");
      metadata(out, "process_name", 0, processName);
      for (ThreadTrack t : tracks) {
        metadata(out, "thread_name", t.tid, t.name);
        for (Event e : t.sortedEvents()) {
          out.writeStartObject();
          out.writeStringField("name", e.name());
          out.writeStringField("ph", "X");
          out.writeNumberField("ts", (e.startNanos() - startNanos) / 1000.0);
          out.writeNumberField("dur", (e.endNanos() - e.startNanos()) / 1000.0);
          out.writeNumberField("pid", pid);
          out.writeNumberField("tid", t.tid);
          out.writeEndObject();
        }
      }
      out.writeEndArray();
      out.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the profile " + file + ": " + e.getMessage(), e);
    }
  }

  private void metadata(JsonGenerator out, String kind, long tid, String name) throws IOException {
    out.writeStartObject();
    out.writeStringField("name", kind);
    out.writeStringField("ph", "M");
    out.writeNumberField("pid", pid);
    out.writeNumberField("tid", tid);
    out.writeObjectFieldStart("args");
    out.writeStringField("name", name);
    out.writeEndObject();
    out.writeEndObject();
  }

  /** One thread's open ranges (a stack) and closed ones; only its thread records, the writer reads a copy. */
  private final class ThreadTrack {
    private final long tid;
    private final String name;
    private final List<Event> events = new ArrayList<>();
    private String[] openNames = new String[16];
    private long[] openStarts = new long[16];
    private int depth;

    ThreadTrack(long tid, String name) {
      this.tid = tid;
      this.name = name;
    }

    void begin(String range, long now) {
      if (depth == openNames.length) {
        openNames = Arrays.copyOf(openNames, depth * 2);
        openStarts = Arrays.copyOf(openStarts, depth * 2);
      }
      openNames[depth] = range;
      openStarts[depth] = now;
      depth++;
    }

    void end(long now) {
      if (depth == 0) return;   // opened before this trace started
      depth--;
      if (kept.incrementAndGet() > MAX_EVENTS) {
        kept.decrementAndGet();
        dropped.incrementAndGet();
        return;
      }
      Event e = new Event(openNames[depth], openStarts[depth], now, depth);
      synchronized (events) {
        events.add(e);
      }
    }

    List<Event> sortedEvents() {
      List<Event> copy;
      synchronized (events) {
        copy = new ArrayList<>(events);
      }
      copy.sort(Comparator.comparingLong(Event::startNanos).thenComparingInt(Event::depth));
      return copy;
    }
  }
}
