package dev.mplug.task;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.mplug.train.TrainerConfig;
import dev.mplug.train.proto.PretrainSchedule;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What every run config (pretraining, fine-tuning) shares: the protobuf text read from a file or from a config shipped
 * in the jar under {@code configs/}, {@code key=value} overrides with the field names of the file, and the trainer's
 * schedule section.
 */
public final class ConfigText {
  private ConfigText() {}

  /** Parses {@code config} (a file or shipped name) into {@code builder} and applies the overrides. */
  public static <B extends Message.Builder> B parse(String config, List<String> overrides, B builder) {
    try {
      TextFormat.merge(read(config), builder);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException(config + ": " + e.getMessage(), e);
    }
    for (String o : overrides) applyOverride(builder, o);
    return builder;
  }

  /** A file's text, or a config shipped under {@code configs/} in the jar. */
  public static String read(String config) {
    Path p = Path.of(config);
    try {
      if (Files.isRegularFile(p)) return Files.readString(p, StandardCharsets.UTF_8);
      String name = config.endsWith(".txtpb") ? config : config + ".txtpb";
      try (InputStream in = ConfigText.class.getResourceAsStream("/configs/" + name)) {
        if (in != null) return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read config " + config + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("config " + config + " is neither a file nor a shipped config (shipped: "
        + String.join(", ", shipped()) + ")");
  }

  /** The names of the configs shipped in the jar. */
  public static List<String> shipped() {
    try (InputStream in = ConfigText.class.getResourceAsStream("/configs/INDEX")) {
      if (in == null) return List.of();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
          .filter(l -> !l.isEmpty()).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** {@code a.b=v}: sets field b of message a, parsed like the config file (so types and names are checked). */
  public static void applyOverride(Message.Builder b, String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) throw new IllegalArgumentException("override \"" + override + "\" is not key=value");
    String key = override.substring(0, eq).strip();
    String value = override.substring(eq + 1).strip();
    String[] path = key.split("\\.");
    Descriptors.Descriptor d = b.getDescriptorForType();
    StringBuilder open = new StringBuilder();
    StringBuilder close = new StringBuilder();
    for (int i = 0; i < path.length; i++) {
      FieldDescriptor f = d.findFieldByName(path[i]);
      if (f == null) throw new IllegalArgumentException("override " + key + ": unknown key " + path[i]);
      if (i < path.length - 1) {
        if (f.getType() != FieldDescriptor.Type.MESSAGE) {
          throw new IllegalArgumentException("override " + key + ": " + path[i] + " has no sub-keys");
        }
        open.append(path[i]).append(" { ");
        close.append(" }");
        d = f.getMessageType();
      } else {
        boolean quote = f.getType() == FieldDescriptor.Type.STRING && !value.startsWith("\"");
        open.append(path[i]).append(": ").append(quote ? "\"" + value.replace("\"", "\\\"") + "\"" : value);
      }
    }
    try {
      TextFormat.merge(open.append(close).toString(), b);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException("override " + override + ": " + e.getMessage(), e);
    }
  }

  /**
   * The trainer config of a {@code train { ... }} section: defaults for runs shorter than the official ones (warm-up a
   * tenth of the run up to 2,000 steps, a log line every 10 steps, a checkpoint at the end, the last 2 kept).
   */
  public static TrainerConfig schedule(PretrainSchedule s, long defaultSteps) {
    long totalSteps = s.hasTotalSteps() ? s.getTotalSteps() : defaultSteps;
    TrainerConfig.Builder t = TrainerConfig.builder(totalSteps).warmupSteps(Math.min(2000, totalSteps / 10))
        .logEvery(10).checkpointEvery(0).keepLast(2);
    if (s.hasWarmupSteps()) t.warmupSteps(s.getWarmupSteps());
    if (s.hasLr()) t.lr(s.getLr());
    if (s.hasVisualLr()) t.visualLr(s.getVisualLr());
    if (s.hasWarmupLr()) t.warmupLr(s.getWarmupLr());
    if (s.hasMinLr()) t.minLr(s.getMinLr());
    if (s.hasWeightDecay()) t.weightDecay(s.getWeightDecay());
    if (s.hasClipNorm()) t.clipNorm(s.getClipNorm());
    if (s.hasAccumulation()) t.accumulation(s.getAccumulation());
    if (s.hasPrecision()) t.precision(s.getPrecision());
    if (s.hasLogEvery()) t.logEvery(s.getLogEvery());
    if (s.hasCheckpointEvery()) t.checkpointEvery(s.getCheckpointEvery());
    if (s.hasKeepLast()) t.keepLast(s.getKeepLast());
    if (s.hasMaxNonfiniteInARow()) t.maxNonFiniteInARow(s.getMaxNonfiniteInARow());
    if (s.hasSeed()) t.seed(s.getSeed());
    if (s.hasDdpBucketMb()) t.bucketMb(s.getDdpBucketMb());
    if (s.hasDdpFindUnused()) t.findUnusedParameters(s.getDdpFindUnused());
    if (s.hasZeroStage()) t.zeroStage(s.getZeroStage());
    if (s.hasAttention()) t.attention(s.getAttention());
    if (s.hasActivationCheckpointing()) t.activationCheckpointing(s.getActivationCheckpointing());
    if (s.hasDevice()) t.device(s.getDevice());
    return t.build();
  }
}
