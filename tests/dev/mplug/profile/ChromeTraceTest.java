package dev.mplug.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.TraceFile;
import dev.mplug.testing.TraceFile.Slice;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trace of nested ranges on two threads, read back as a viewer reads it. */
class ChromeTraceTest {
  @TempDir Path tmp;

  /** Work long enough that the clock moves (a few microseconds). */
  private static void work() {
    long until = System.nanoTime() + 50_000;
    while (System.nanoTime() < until) Thread.onSpinWait();
  }

  @Test
  void nestedRangesOfTwoThreadsBecomeCompleteEventsInsideTheirParents() throws Exception {
    Path file = tmp.resolve("trace.json");
    String main = Thread.currentThread().getName();
    try (ChromeTrace trace = Profiler.startTrace(file, "mplug test")) {
      try (Range step = Range.open("step")) {
        assertTrue(step.recorded());
        try (Range forward = Range.open("forward")) {
          try (Range vit = Range.open("vit")) {
            work();
          }
          work();
        }
        try (Range backward = Range.open("backward")) {
          work();
        }
      }
      Thread worker = new Thread(() -> {
        try (Range r = Range.open("load_batch")) {
          work();
        }
      }, "loader-test-1");
      worker.start();
      worker.join();
      assertEquals(5, trace.ranges());
    }
    assertFalse(Range.open("after").recorded(), "nothing listens once the trace is closed");

    TraceFile t = TraceFile.read(file);
    assertEquals(5, t.slices().size());
    assertEquals("mplug test", t.processName());
    Slice step = t.named("step").getFirst();
    Slice forward = t.named("forward").getFirst();
    Slice vit = t.named("vit").getFirst();
    Slice backward = t.named("backward").getFirst();
    Slice load = t.named("load_batch").getFirst();
    assertEquals(main, t.threadNames().get(step.tid()));
    assertEquals("loader-test-1", t.threadNames().get(load.tid()));
    assertNotEquals(step.tid(), load.tid());
    assertEquals(ProcessHandle.current().pid(), step.pid());
    assertEquals("", t.parentName(step));
    assertEquals("step", t.parentName(forward));
    assertEquals("forward", t.parentName(vit));
    assertEquals("step", t.parentName(backward));
    assertEquals("", t.parentName(load), "the worker's range is not nested in the main thread's");
    assertTrue(forward.end() <= backward.start(), "siblings in order");
    assertTrue(vit.end() - vit.start() >= 50_000, "durations in the file are microseconds: " + vit);
    // written in start order per thread, parents first
    List<String> mainOrder = t.slices().stream().filter(s -> s.tid() == step.tid()).map(Slice::name).toList();
    assertEquals(List.of("step", "forward", "vit", "backward"), mainOrder);
    assertTrue(t.root().get("otherData").get("start_epoch_us").asLong() > 1_700_000_000_000_000L);
    assertEquals(0, t.root().get("otherData").get("dropped_ranges").asLong());
  }

  @Test
  void aRangeOpenedBeforeTheTraceStartedIsLeftOutAndItsCloseIgnored() throws Exception {
    Path file = tmp.resolve("late.json");
    Range early = Range.open("early");   // nothing listens yet: not recorded
    try (ChromeTrace trace = Profiler.startTrace(file, "late")) {
      try (Range inner = Range.open("inner")) {
        work();
      }
      early.close();
      assertEquals(1, trace.ranges());
    }
    assertEquals(List.of("inner"), TraceFile.read(file).slices().stream().map(Slice::name).toList());
  }

  @Test
  void oneTraceAtATimeAndAnUnwritableFileFailsAtStart() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Profiler.startTrace(tmp, "x"));
    assertEquals("profile " + tmp + ": not a writable file", e.getMessage());
    assertFalse(Range.open("x").recorded(), "a failed start leaves nothing listening");
    try (ChromeTrace first = Profiler.startTrace(tmp.resolve("a.json"), "a")) {
      IllegalStateException twice = assertThrows(IllegalStateException.class,
          () -> Profiler.startTrace(tmp.resolve("b.json"), "b"));
      assertTrue(twice.getMessage().contains("a.json"), twice.getMessage());
    }
  }
}
