package dev.mplug.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Chrome trace read back for tests: its complete events as slices (times in integer nanoseconds, as Perfetto
 * converts them), the thread names, and each slice's parent found the way a viewer nests them (the innermost slice
 * of the same thread whose interval contains it). Fails on anything a viewer would reject: a slice that overlaps
 * another on its thread without being inside it, an event of another phase, a negative duration.
 */
public record TraceFile(JsonNode root, List<Slice> slices, Map<Long, String> threadNames, String processName,
    Map<Slice, Slice> parents) {

  /** One range: its name, thread, and [start, end] in nanoseconds. */
  public record Slice(String name, long pid, long tid, long start, long end) {
    public boolean contains(Slice other) {
      return start <= other.start && other.end <= end;
    }
  }

  public static TraceFile read(Path file) throws IOException {
    JsonNode root = new ObjectMapper().readTree(file.toFile());
    List<Slice> slices = new ArrayList<>();
    Map<Long, String> threads = new HashMap<>();
    String process = null;
    for (JsonNode e : root.get("traceEvents")) {
      String ph = e.get("ph").asText();
      if (ph.equals("M")) {
        String kind = e.get("name").asText();
        if (kind.equals("thread_name")) threads.put(e.get("tid").asLong(), e.get("args").get("name").asText());
        if (kind.equals("process_name")) process = e.get("args").get("name").asText();
        continue;
      }
      assertEquals("X", ph, "only complete events: " + e);
      long start = Math.round(e.get("ts").asDouble() * 1000);
      long dur = Math.round(e.get("dur").asDouble() * 1000);
      assertTrue(dur >= 0, "negative duration: " + e);
      slices.add(new Slice(e.get("name").asText(), e.get("pid").asLong(), e.get("tid").asLong(), start, start + dur));
    }
    return new TraceFile(root, slices, threads, process, nest(slices));
  }

  /** Each slice's parent (absent: outermost), per thread; fails on a slice that overlaps another without nesting. */
  private static Map<Slice, Slice> nest(List<Slice> slices) {
    Map<Slice, Slice> parents = new IdentityHashMap<>();
    Map<Long, List<Slice>> byThread = new HashMap<>();
    for (Slice s : slices) byThread.computeIfAbsent(s.tid(), t -> new ArrayList<>()).add(s);
    for (List<Slice> thread : byThread.values()) {
      thread.sort(Comparator.comparingLong(Slice::start).thenComparing(Comparator.comparingLong(Slice::end).reversed()));
      Deque<Slice> open = new ArrayDeque<>();
      for (Slice s : thread) {
        while (!open.isEmpty() && !open.peek().contains(s)) {
          Slice done = open.pop();
          assertTrue(done.end() <= s.start(), s + " overlaps " + done + " without being inside it");
        }
        if (!open.isEmpty()) parents.put(s, open.peek());
        open.push(s);
      }
    }
    return parents;
  }

  public List<Slice> named(String name) {
    return slices.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The name of the slice's parent, or "" for an outermost slice. */
  public String parentName(Slice s) {
    Slice p = parents.get(s);
    return p == null ? "" : p.name();
  }
}
