package dev.mplug.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.dist.DistributedDataParallel;
import dev.mplug.dist.DistributedGroup;
import dev.mplug.io.SafeTensors;
import dev.mplug.io.StateDict;
import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.FusedAttention;
import dev.mplug.profile.PeakResidentSet;
import dev.mplug.profile.Range;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.CudaMemory;
import dev.mplug.torch.HostToDeviceCopy;
import dev.mplug.torch.NativeHeap;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.torch.Tensors;
import dev.mplug.train.metrics.MetricsSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongToDoubleFunction;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The training loop: AdamW in the official parameter groups, warmup + cosine schedule, gradient accumulation and
 * clipping, optional bf16 autocast, non-finite detection (skip the step, count it, stop after N in a row), every
 * step's native memory released by a {@link TensorScope}, metrics, progress, and checkpoints that resume exactly.
 *
 * <p>Data parallel (a {@link DistributedGroup} of more than one rank): the parameters are wrapped in a
 * {@link DistributedDataParallel} (rank 0's values at start, gradients averaged over the ranks in buckets during
 * backward, no communication on accumulation micro-steps), the ranks refuse to start with different trainer or model
 * configs, the logged losses are the means over the ranks, and a step whose mean loss or gradient is not finite is
 * skipped by all ranks together. Every rank evaluates at checkpoint steps (so collectives stay in the same order);
 * only rank 0 writes metrics and checkpoints, and a checkpoint holds every rank's generator state. The task receives
 * this rank's micro-batches from a rank-aware {@link Batches}; the queues gather through the task. With
 * {@code zero_stage = 1} the optimizer state is sharded ({@link ZeroRedundancyOptimizer}): each rank updates the
 * parameters it owns and writes its own shard of the state into the checkpoint.
 *
 * <p>Device ({@code train.device}, {@link ComputeDevice}): the parameters and the task's state tensors are moved to
 * it in place at construction, each batch's tensors are copied there ({@link DeviceBatches}: pinned memory and a copy
 * stream on CUDA), bf16 autocast runs on the device, the optimizer state is created there, and checkpoints are
 * written from CPU copies (so they load on either device), with the CUDA generator's state beside the CPU one on a
 * CUDA run (restored on resume where both have it; said in the log where not). On CUDA the metrics also carry the
 * caching allocator's allocated (now and step peak) and reserved memory ({@link CudaMemory}).
 *
 * <p>Profiling: each step opens the ranges {@code step}, {@code data_wait}, {@code forward}, {@code backward},
 * {@code clip_grad} and {@code optimizer_step} ({@link Range}; free unless a trace or an Nsight tool listens), and the
 * metrics carry the step's peak resident set ({@code mem/peak_rss_mib}) and, when the JVM tracks its native memory,
 * the native memory outside it ({@code mem/native_outside_jvm_mib}).
 */
public final class Trainer<B> implements AutoCloseable {
  public static final String MODEL_FILE = "model.safetensors";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";
  public static final String STATE_FILE = "trainer.json";
  /** The state file's keys of the generator states ({@code rank_...}: one per rank of a data-parallel run). */
  static final String CPU_RNG = "torch_cpu_rng";
  static final String CUDA_RNG = "torch_cuda_rng";
  private static final String RANK_PREFIX = "rank_";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double MIB = 1 << 20;

  /** What a finished (or stopped) run reports. */
  public record Summary(long steps, List<Double> losses, long skippedSteps, double samplesPerSecond, Path lastCheckpoint) {}

  private final TrainerConfig config;
  private final ComputeDevice device;
  private final Precision precision;
  private final TrainingTask<B> task;
  private final Batches<B> data;
  private final CheckpointStore checkpoints;
  private final List<MetricsSink> sinks;
  private final Progress progress;
  private final boolean writer;
  private final DistributedGroup group;
  private final DistributedDataParallel ddp;
  private final ZeroRedundancyOptimizer zero;
  private boolean zeroMemoryReported;
  private final AdamW optimizer;
  private final Map<String, Tensor> params;
  private final List<AdamW.Group> groups;
  private final Map<AdamW.Group, Double> lrScale = new IdentityHashMap<>();
  private long step;
  private long skipped;
  private int nonFiniteInARow;
  private double peakFlops;
  private String scoreMetric;
  private LongToDoubleFunction scoreAt;
  /** Whether the JVM tracks its own mallocs, so that the native memory outside it can be logged. */
  private final boolean nativeMemoryTracked = NativeHeap.jvmMallocBytes() >= 0;

  /** A single-process trainer; {@code writer}: whether it writes metrics and checkpoints. */
  public Trainer(TrainerConfig config, TrainingTask<B> task, Batches<B> data, CheckpointStore checkpoints,
      List<MetricsSink> sinks, Progress progress, boolean writer) {
    this(config, task, data, checkpoints, sinks, progress, writer, DistributedGroup.single());
  }

  /**
   * A trainer on this rank of {@code group} (rank 0 writes); with more than one rank every rank must construct its
   * trainer (the ranks exchange configs and rank 0's parameters here).
   */
  public Trainer(TrainerConfig config, TrainingTask<B> task, Batches<B> data, CheckpointStore checkpoints,
      List<MetricsSink> sinks, Progress progress, DistributedGroup group) {
    this(config, task, data, checkpoints, sinks, progress, group.writer(), group);
  }

  private Trainer(TrainerConfig config, TrainingTask<B> task, Batches<B> data, CheckpointStore checkpoints,
      List<MetricsSink> sinks, Progress progress, boolean writer, DistributedGroup group) {
    TorchRuntime.load();
    this.config = config;
    // one GPU per process: local rank r of a multi-process run on cuda:N trains on cuda:(N + r)
    this.device = group.environment().deviceOfRank(ComputeDevice.parse(config.device(), "device"))
        .requireAvailable("device");
    this.precision = Precision.parse(config.precision());
    FusedAttention.use(FusedAttention.Mode.parse(config.attention(), "attention"));   // process-wide, as the threads
    ActivationCheckpoint.use(ActivationCheckpoint.parse(config.activationCheckpointing(), "activation_checkpointing"));
    this.task = task;
    this.data = new DeviceBatches<>(data, HostToDeviceCopy.to(device));
    this.checkpoints = checkpoints;
    this.sinks = List.copyOf(sinks);
    this.progress = progress;
    this.writer = writer;
    this.group = group;
    if (writer && precision.hardwareWarning() != null) progress.message("warning: " + precision.hardwareWarning());
    this.params = task.parameters();
    // in place, before the optimizer and data parallel see them: every handle on a parameter or on the task's state
    // (momentum model, queues) then refers to the device's copy
    params.values().forEach(device::moveInPlace);
    task.stateTensors().values().forEach(device::moveInPlace);
    if (group.distributed()) {
      group.requireSame("trainer config", config.toString());
      group.requireSame("model config", task.configText());
      this.ddp = new DistributedDataParallel(group, params, task.stateTensors(), (long) config.bucketMb() << 20,
          config.findUnusedParameters());
    } else {
      this.ddp = null;
    }
    this.zero = config.zeroStage() == 1 && group.distributed() ? new ZeroRedundancyOptimizer(group, params) : null;
    Predicate<String> updatedHere = zero == null ? name -> true : zero::owns;
    this.optimizer = new AdamW(params, 0.9, 0.999, 1e-8);
    this.groups = new ArrayList<>();
    Map<String, Double> scales = task.learningRateScales();
    List<String> grouped = params.keySet().stream().filter(n -> !scales.containsKey(n)).toList();
    for (ParameterGroups.Group g : ParameterGroups.of(grouped)) {
      AdamW.Group adamGroup = optimizer.addGroup(g.name(), g.parameters().stream().filter(updatedHere).toList(),
          g.visual() ? config.visualLr() : config.lr(), g.decay() ? config.weightDecay() : 0.0);
      groups.add(adamGroup);
      lrScale.put(adamGroup, 1.0);
    }
    for (var e : scales.entrySet()) {
      if (!params.containsKey(e.getKey())) throw new IllegalArgumentException("lr scale for unknown parameter " + e.getKey());
      AdamW.Group adamGroup = optimizer.addGroup("scaled/" + e.getKey(),
          Stream.of(e.getKey()).filter(updatedHere).toList(), config.lr() * e.getValue(), 0);
      groups.add(adamGroup);
      lrScale.put(adamGroup, e.getValue());
    }
  }

  public long step() {
    return step;
  }

  /** Where the parameters, optimizer state, batches and losses live ({@code train.device}). */
  public ComputeDevice device() {
    return device;
  }

  /** The precision the forward runs in ({@code train.precision}). */
  public Precision precision() {
    return precision;
  }

  public AdamW optimizer() {
    return optimizer;
  }

  /** Sets the matmul rate that MFU is reported against (0 = do not report MFU). */
  public void setPeakFlops(double flops) {
    this.peakFlops = flops;
  }

  /** Trains from the current step to {@code config.totalSteps()} (or {@code untilStep}, if smaller). */
  public Summary run(long untilStep) {
    long end = Math.min(untilStep, config.totalSteps());
    LearningRateSchedule base = config.schedule(false);
    LearningRateSchedule visual = config.schedule(true);
    List<Double> losses = new ArrayList<>();
    Path last = null;
    long samples = 0;
    long startNanos = System.nanoTime();
    while (step < end) {
      for (AdamW.Group g : groups) g.setLr((g.name().startsWith("visual") ? visual : base).at(step) * lrScale.get(g));
      long stepStart = System.nanoTime();
      boolean peakOfThisStep = PeakResidentSet.reset();
      CudaMemory.resetPeak(device);
      Map<String, Double> values = new LinkedHashMap<>();
      double loss;
      double gradNorm;
      int batchSamples = 0;
      try (Range stepRange = Range.open("step"); TensorScope scope = TensorScope.open()) {
        double total = 0;
        for (int micro = 0; micro < config.accumulation(); micro++) {
          B batch = nextBatch();
          batchSamples += task.batchSize(batch);
          boolean lastMicroStep = micro == config.accumulation() - 1;
          if (ddp != null) ddp.beforeForward(lastMicroStep);
          Map<String, Tensor> named;
          try (Range r = Range.open("forward")) {
            named = forward(batch);
          }
          Tensor sum = null;
          for (var e : named.entrySet()) {
            double v = e.getValue().item_double();
            values.merge("loss/" + e.getKey(), v / config.accumulation(), Double::sum);
            sum = sum == null ? e.getValue() : sum.add(e.getValue());
          }
          if (sum == null) throw new IllegalStateException("the task returned no losses");
          double s = sum.item_double();
          total += s / config.accumulation();
          Tensor scaled = sum.div(Tensors.scalar(config.accumulation()));
          try (Range r = Range.open("backward")) {
            if (ddp != null) {
              // every rank joins the gradient all-reduce, even with a non-finite loss: the mean then says skip to all
              ddp.backward(scaled, lastMicroStep);
            } else if (Double.isFinite(s)) {
              scaled.backward();
            }
          }
        }
        if (group.distributed()) total = meanOverRanks(total, values);
        loss = total;
        try (Range r = Range.open("clip_grad")) {
          gradNorm = Double.isFinite(loss) ? clipAndMeasure() : Double.NaN;
        }
        if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
          optimizer.zeroGrad();
          skipped++;
          nonFiniteInARow++;
          progress.message("step " + (step + 1) + ": non-finite " + (Double.isFinite(loss) ? "gradient" : "loss")
              + " (loss " + loss + ", grad norm " + gradNorm + "), step skipped (" + nonFiniteInARow + " in a row)");
          if (nonFiniteInARow >= config.maxNonFiniteInARow()) {
            throw new TorchException("training stopped: " + nonFiniteInARow + " non-finite steps in a row at step "
                + (step + 1) + " (lower the learning rate, use fp32, or check the data)");
          }
        } else {
          nonFiniteInARow = 0;
          try (Range r = Range.open("optimizer_step")) {
            optimizer.step();
            if (zero != null) shardedStepDone();
          }
          optimizer.zeroGrad();
          task.afterOptimizerStep(step);
        }
      }
      batchSamples *= group.worldSize();   // the global batch
      samples += batchSamples;
      double stepSeconds = (System.nanoTime() - stepStart) / 1e9;
      double throughput = batchSamples / stepSeconds;
      losses.add(loss);
      step++;
      values.put("loss/total", loss);
      values.put("grad_norm", gradNorm);
      values.put("lr", groups.get(0).lr());
      values.put("samples_per_second", throughput);
      values.putAll(task.metrics());
      if (peakFlops > 0 && task.flopsPerSample() > 0) {
        values.put("mfu", ModelFlops.utilisation(task.flopsPerSample(), throughput, peakFlops));
      }
      progress.update(step - 1, loss, throughput);
      if (writer && (step % config.logEvery() == 0 || step == end)) {
        values.put(peakOfThisStep ? "mem/peak_rss_mib" : "mem/max_rss_mib", PeakResidentSet.bytes() / MIB);
        // reading the JVM's count takes milliseconds: logged steps only
        if (nativeMemoryTracked) values.put("mem/native_outside_jvm_mib", NativeHeap.outsideJvmBytes() / MIB);
        values.putAll(CudaMemory.metrics(device));   // allocated (now, step peak) and reserved; none on the CPU
        for (MetricsSink sink : sinks) {
          sink.write(step, values);
          sink.flush();
        }
      }
      boolean checkpointStep = (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0) || step == end;
      if (checkpointStep && (writer || group.distributed())) {
        Path saved = save();   // all ranks: evaluation and generator states; rank 0 writes
        if (writer) last = saved;
      }
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    return new Summary(step, losses, skipped, seconds > 0 ? samples / seconds : 0, last);
  }

  /** The next micro-batch; the time the trainer waits for it is the range "data_wait". */
  private B nextBatch() {
    try (Range r = Range.open("data_wait")) {
      return data.next();
    }
  }

  /** ZeRO-1: the owners' updates reach every rank; after the first update the state's size per rank is reported. */
  private void shardedStepDone() {
    zero.broadcastParameters();
    if (!zeroMemoryReported) {
      String line = zero.memoryLine(optimizer);
      if (writer) progress.message(line);
      zeroMemoryReported = true;
    }
  }

  /** Replaces {@code values} (the losses of this rank) by their means over the ranks; returns the mean total. */
  private double meanOverRanks(double total, Map<String, Double> values) {
    List<String> keys = new ArrayList<>(values.keySet());
    double[] local = new double[keys.size() + 1];
    local[0] = total;
    for (int i = 0; i < keys.size(); i++) local[i + 1] = values.get(keys.get(i));
    double[] mean;
    try (Range r = Range.open("allreduce.losses")) {
      mean = group.mean(local);
    }
    for (int i = 0; i < keys.size(); i++) values.put(keys.get(i), mean[i + 1]);
    return mean[0];
  }

  /**
   * The task's losses for one micro-batch, in fp32, or under bf16 autocast on the training device: the region ends
   * (and libtorch's cache of bf16 weight copies is emptied) before backward, as with Python's
   * {@code with autocast(): loss = ...}.
   */
  private Map<String, Tensor> forward(B batch) {
    if (!precision.autocast()) return task.losses(batch, step);
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (Autocast region = Autocast.on(device.type(), precision)) {
      task.losses(batch, step).forEach((k, v) -> out.put(k, v.to(torch.ScalarType.Float)));
    }
    return out;
  }

  /** Global gradient norm (clipped to {@code clipNorm} when set). */
  private double clipAndMeasure() {
    TensorVector withGrad = new TensorVector();
    for (Tensor p : params.values()) {
      Tensor g = p.grad();
      if (g != null && g.defined()) withGrad.push_back(p);
    }
    if (withGrad.size() == 0) return 0;
    double max = config.clipNorm() > 0 ? config.clipNorm() : Float.MAX_VALUE;   // libtorch takes the bound as a float
    return torch.clip_grad_norm_(withGrad, max, 2.0, false);
  }

  /**
   * Scores every checkpoint when it is written: {@code score} gets the step and returns the value of {@code metric}
   * (higher is better), which {@code trainer.json} records and by which the store keeps the best checkpoint.
   */
  public void scoreCheckpoints(String metric, LongToDoubleFunction score) {
    this.scoreMetric = metric;
    this.scoreAt = score;
  }

  /**
   * Writes a checkpoint of everything a resume needs; returns its folder. The files are a function of the state alone
   * (safetensors headers and {@code trainer.json} in a fixed order), so identical state gives identical bytes. With
   * several ranks every rank calls it (each evaluates and hands over its generator state) and rank 0 writes; the
   * others return null.
   */
  public Path save() {
    long at = step;
    CheckpointStore.Score score = scoreAt == null ? null : score(at);
    List<byte[]> generators = group.allGatherBytes("generator state", TorchRuntime.rngState(ComputeDevice.CPU));
    List<byte[]> cudaGenerators = device.cuda()
        ? group.allGatherBytes("CUDA generator state", TorchRuntime.rngState(device)) : null;
    if (!writer) {
      if (zero != null) {
        try {
          zero.writeShards(null, optimizer, at);
        } catch (IOException e) {
          throw new UncheckedIOException("rank " + group.rank() + " cannot write its optimizer shard: "
              + e.getMessage(), e);
        }
      }
      return null;
    }
    return checkpoints.save(at, score, dir -> {
      Map<String, Tensor> model = new LinkedHashMap<>(params);
      task.stateTensors().forEach((k, v) -> model.put("state/" + k, v));
      // written from CPU copies, so that a checkpoint loads on either device
      SafeTensors.write(dir.resolve(MODEL_FILE), ComputeDevice.onCpu(model), Map.of("format", "mplug-java", "step",
          Long.toString(at)));
      if (zero != null) {
        zero.writeShards(dir, optimizer, at);
      } else {
        SafeTensors.write(dir.resolve(OPTIMIZER_FILE), ComputeDevice.onCpu(optimizer.stateTensors()),
            Map.of("step", Long.toString(at)));
      }
      ObjectNode state = JSON.createObjectNode();
      state.put("step", at).put("optimizer_step", optimizer.stepCount()).put("skipped", skipped)
          .put("nonfinite_in_a_row", nonFiniteInARow);
      LoaderPosition pos = data.position();
      state.putObject("data").put("epoch", pos.epoch()).put("offset", pos.offset());
      ObjectNode counters = state.putObject("task_counters");
      new TreeMap<>(task.stateCounters()).forEach(counters::put);   // tasks may return Map.of: fix the order
      state.put(CPU_RNG, Base64.getEncoder().encodeToString(generators.get(0)));
      if (cudaGenerators != null) state.put(CUDA_RNG, Base64.getEncoder().encodeToString(cudaGenerators.get(0)));
      if (group.distributed()) {
        state.put("world_size", group.worldSize());
        var perRank = state.putArray(RANK_PREFIX + CPU_RNG);
        generators.forEach(g -> perRank.add(Base64.getEncoder().encodeToString(g)));
        if (cudaGenerators != null) {
          var cudaPerRank = state.putArray(RANK_PREFIX + CUDA_RNG);
          cudaGenerators.forEach(g -> cudaPerRank.add(Base64.getEncoder().encodeToString(g)));
        }
      }
      state.put("model_config", task.configText());
      if (!task.taskName().isEmpty()) state.put("task", task.taskName());
      state.put("trainer_config", config.toString());
      if (score != null) state.putObject("score").put("metric", score.metric()).put("value", score.value());
      Files.write(dir.resolve(STATE_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
    });
  }

  /** The score of the checkpoint at {@code step} (an evaluation, the range "evaluate"). */
  private CheckpointStore.Score score(long step) {
    try (Range r = Range.open("evaluate")) {
      return new CheckpointStore.Score(scoreMetric, scoreAt.applyAsDouble(step));
    }
  }

  /** Restores a checkpoint written by {@link #save()}; the run then continues exactly where it stopped. */
  public void resume(Path dir) {
    CheckpointStore.requireValid(dir);
    JsonNode state;
    try {
      state = JSON.readTree(dir.resolve(STATE_FILE).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(STATE_FILE) + ": " + e.getMessage(), e);
    }
    String savedConfig = state.path("model_config").asText();
    if (!savedConfig.equals(task.configText())) {
      throw new IllegalArgumentException("checkpoint " + dir + " was written for another model config: "
          + firstDifference(savedConfig, task.configText()));
    }
    try (StateDict model = readTensors(dir.resolve(MODEL_FILE));
        StateDict opt = ZeroRedundancyOptimizer.readState(dir, OPTIMIZER_FILE);
        NoGradGuard guard = new NoGradGuard()) {
      Map<String, Tensor> taskState = new LinkedHashMap<>();
      for (String key : model.keys()) {
        if (key.startsWith("state/")) {
          taskState.put(key.substring("state/".length()), model.get(key));
          continue;
        }
        Tensor p = params.get(key);
        if (p == null) throw new IllegalArgumentException("checkpoint " + dir + " holds " + key + ", unknown to this model");
        Tensor src = model.get(key);
        if (!Arrays.equals(Tensors.shape(p), Tensors.shape(src))) {
          throw new IllegalArgumentException("checkpoint " + dir + ": " + key + " has shape " + Tensors.shapeString(src)
              + ", the model expects " + Tensors.shapeString(p));
        }
        p.detach().copy_(src);
      }
      for (String key : params.keySet()) {
        if (!model.contains(key)) throw new IllegalArgumentException("checkpoint " + dir + " lacks parameter " + key);
      }
      Map<String, Long> counters = new LinkedHashMap<>();
      state.path("task_counters").fields().forEachRemaining(e -> counters.put(e.getKey(), e.getValue().asLong()));
      task.loadState(taskState, counters);
      Map<String, Tensor> moments = new LinkedHashMap<>(opt.asMap());
      if (zero != null) moments.keySet().removeIf(k -> !zero.owns(k.substring(k.indexOf('/') + 1)));
      optimizer.loadState(moments, state.path("optimizer_step").asLong());
    }
    step = state.path("step").asLong();
    skipped = state.path("skipped").asLong();
    nonFiniteInARow = state.path("nonfinite_in_a_row").asInt();
    int savedWorld = state.path("world_size").asInt(1);
    TorchRuntime.setRngState(ComputeDevice.CPU, generatorState(state, CPU_RNG, savedWorld));
    restoreCudaGenerator(state, savedWorld, dir);
    data.seek(rescaled(new LoaderPosition(state.path("data").path("epoch").asInt(),
        state.path("data").path("offset").asInt()), savedWorld, dir));
  }

  /** This rank's generator state under {@code key} (its own entry when the rank count is the saved one). */
  private byte[] generatorState(JsonNode state, String key, int savedWorld) {
    JsonNode perRank = state.path(RANK_PREFIX + key);
    String generator = savedWorld == group.worldSize() && perRank.isArray()
        ? perRank.get(group.rank()).asText() : state.path(key).asText();
    return Base64.getDecoder().decode(generator);
  }

  /**
   * The CUDA generator's state where both the checkpoint and this run have one; otherwise the log says why the
   * device's draws do not continue the saved sequence (a checkpoint of a CPU run on CUDA, or of a CUDA run on the CPU,
   * still resumes: the weights, optimizer state, CPU generator and data position are the same).
   */
  private void restoreCudaGenerator(JsonNode state, int savedWorld, Path dir) {
    boolean saved = state.has(CUDA_RNG);
    if (saved && device.cuda()) {
      TorchRuntime.setRngState(device, generatorState(state, CUDA_RNG, savedWorld));
    } else if (saved) {
      progress.message("resume: " + dir + " holds a CUDA generator state; not restored (this run is on the CPU)");
    } else if (device.cuda()) {
      progress.message("resume: " + dir + " holds no CUDA generator state (written by a CPU run); " + device
          + " draws continue from its current state");
    }
  }

  /**
   * This rank's position when a run saved by {@code savedWorld} ranks resumes on this group: rank r visits every
   * W-th sample of the epoch's order from r, so after {@code offset} samples per rank the ranks together have visited
   * the first {@code offset * W} of the order, and any other rank count continues from there when it divides them.
   */
  private LoaderPosition rescaled(LoaderPosition saved, int savedWorld, Path dir) {
    if (savedWorld == group.worldSize()) return saved;
    long visited = (long) saved.offset() * savedWorld;
    if (visited % group.worldSize() != 0) {
      throw new IllegalArgumentException("checkpoint " + dir + " was written by " + savedWorld + " ranks after "
          + visited + " samples of epoch " + saved.epoch() + ", which " + group.worldSize() + " ranks cannot split "
          + "evenly; resume on a rank count that divides " + visited);
    }
    return new LoaderPosition(saved.epoch(), (int) (visited / group.worldSize()));
  }

  /** Where two config texts part: "it has `a`, this run `b`" for the first differing line (trimmed). */
  static String firstDifference(String saved, String current) {
    String[] a = saved.split("\n");
    String[] b = current.split("\n");
    for (int i = 0; i < Math.max(a.length, b.length); i++) {
      String x = i < a.length ? a[i].strip() : "(end)";
      String y = i < b.length ? b[i].strip() : "(end)";
      if (!x.equals(y)) return "it has `" + x + "`, this run `" + y + "` (line " + (i + 1) + ")";
    }
    return "the texts differ in whitespace only";
  }

  private static StateDict readTensors(Path file) {
    try {
      return SafeTensors.read(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint file " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    optimizer.close();
  }
}
