package dev.mplug.train.metrics;

import java.util.Map;

/** Receives scalar metrics at a step (losses, learning rates, throughput); rank 0 only in data-parallel runs. */
public interface MetricsSink extends AutoCloseable {
  void write(long step, Map<String, Double> scalars);

  /** Pushes buffered output to disk. */
  void flush();

  @Override
  void close();
}
