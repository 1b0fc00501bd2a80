package dev.mplug.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.dist.DistributedGroup;
import dev.mplug.io.SafeTensors;
import dev.mplug.io.StateDict;
import dev.mplug.profile.Range;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * ZeRO stage 1 (as PyTorch's {@code ZeroRedundancyOptimizer}): the optimizer state is sharded across the ranks. Every
 * parameter has one owner rank; a rank keeps AdamW's moments only for the parameters it owns and updates only those
 * (the gradients are already averaged on every rank by data parallel), then each owner broadcasts its updated
 * parameters, so every rank holds the whole model again. Per rank the state shrinks to about 1 / world size.
 *
 * <p>Checkpoints: each rank writes its own shard, {@code optimizer-rank-00001-of-00002.safetensors}, and rank 0 a
 * partition map {@code optimizer-partition.json} (world size, owner of each parameter); no rank gathers the whole
 * state. {@link #readState} merges the shards (or reads an unsharded {@code optimizer.safetensors}), so a run resumes
 * on any number of ranks, with or without sharding.
 */
public final class ZeroRedundancyOptimizer {
  public static final String PARTITION_FILE = "optimizer-partition.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DistributedGroup group;
  private final Map<String, Tensor> params;
  private final Map<String, Integer> owner;

  public ZeroRedundancyOptimizer(DistributedGroup group, Map<String, Tensor> params) {
    this.group = group;
    this.params = params;
    this.owner = partition(params, group.worldSize());
  }

  /**
   * The owner of each parameter: in parameter order, each goes to the rank that owns the fewest elements so far (the
   * lowest such rank), which balances the state and is the same on every rank.
   */
  public static Map<String, Integer> partition(Map<String, Tensor> params, int worldSize) {
    long[] load = new long[worldSize];
    Map<String, Integer> out = new LinkedHashMap<>();
    for (var e : params.entrySet()) {
      int least = 0;
      for (int r = 1; r < worldSize; r++) if (load[r] < load[least]) least = r;
      out.put(e.getKey(), least);
      load[least] += e.getValue().numel();
    }
    return out;
  }

  /** Whether this rank keeps the state of (and updates) {@code name}. */
  public boolean owns(String name) {
    return owner.get(name) == group.rank();
  }

  /** After the owners' update: every rank takes each parameter from its owner (one flat broadcast per owner). */
  public void broadcastParameters() {
    try (Range range = Range.open("zero.broadcast"); NoGradGuard guard = new NoGradGuard()) {
      for (int r = 0; r < group.worldSize(); r++) {
        List<Tensor> owned = new ArrayList<>();
        for (var e : owner.entrySet()) if (e.getValue() == r) owned.add(params.get(e.getKey()).detach());
        if (owned.isEmpty()) continue;
        TensorVector flat = new TensorVector();
        for (Tensor p : owned) flat.push_back(p.reshape(-1));
        Tensor buffer = torch.cat(flat);                                                  // [sum of numel]
        group.broadcast(List.of(buffer), r);
        if (r == group.rank()) continue;
        long offset = 0;
        for (Tensor p : owned) {
          p.copy_(buffer.narrow(0, offset, p.numel()).view(p.sizes()));
          offset += p.numel();
        }
      }
    }
  }

  /** "optimizer state (ZeRO-1): 1.2 MiB on this rank, 2.3 MiB unsharded": the moments' bytes, measured. */
  public String memoryLine(AdamW optimizer) {
    long mine = 0;
    for (Tensor t : optimizer.stateTensors().values()) mine += t.numel() * t.element_size();
    long all = 0;
    for (Tensor p : params.values()) all += 2 * p.numel() * p.element_size();
    List<byte[]> perRank = group.allGatherBytes("optimizer state bytes",
        Long.toString(mine).getBytes(StandardCharsets.US_ASCII));
    StringBuilder ranks = new StringBuilder();
    for (byte[] b : perRank) {
      ranks.append(ranks.isEmpty() ? "" : " / ").append(mib(Long.parseLong(new String(b, StandardCharsets.US_ASCII))));
    }
    return "optimizer state (ZeRO-1): " + ranks + " MiB on ranks 0.." + (group.worldSize() - 1) + ", " + mib(all)
        + " MiB unsharded";
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.2f", bytes / (1024.0 * 1024.0));
  }

  /** The file of {@code rank}'s shard. */
  public static String shardFile(int rank, int worldSize) {
    return String.format("optimizer-rank-%05d-of-%05d.safetensors", rank, worldSize);
  }

  /**
   * Every rank writes its shard of the state into the folder rank 0 is writing a checkpoint to ({@code dir} on rank
   * 0, null on the others, which learn it from rank 0; the folder must be one all ranks see), rank 0 also the
   * partition map; returns when every shard is written, so rank 0's manifest covers them all.
   */
  public void writeShards(Path dir, AdamW optimizer, long step) throws IOException {
    byte[] mine = dir == null ? new byte[0] : dir.toString().getBytes(StandardCharsets.UTF_8);
    Path folder = Path.of(new String(group.allGatherBytes("checkpoint folder", mine).get(0), StandardCharsets.UTF_8));
    SafeTensors.write(folder.resolve(shardFile(group.rank(), group.worldSize())), optimizer.stateTensors(),
        Map.of("step", Long.toString(step)));
    if (group.writer()) {
      ObjectNode map = JSON.createObjectNode().put("world_size", group.worldSize());
      ObjectNode owners = map.putObject("owner");
      owner.forEach(owners::put);
      Files.write(folder.resolve(PARTITION_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(map));
    }
    group.allGatherBytes("optimizer shard written", new byte[0]);
  }

  /**
   * The optimizer state of checkpoint {@code dir}, whole: the shards named by its partition map merged, or its
   * unsharded {@code unshardedFile}. The caller closes the result.
   */
  public static StateDict readState(Path dir, String unshardedFile) {
    try {
      Path map = dir.resolve(PARTITION_FILE);
      if (!Files.exists(map)) return SafeTensors.read(dir.resolve(unshardedFile));
      JsonNode partition = JSON.readTree(map.toFile());
      int world = partition.path("world_size").asInt();
      Map<String, Tensor> merged = new LinkedHashMap<>();
      for (int r = 0; r < world; r++) {
        StateDict shard = SafeTensors.read(dir.resolve(shardFile(r, world)));
        merged.putAll(shard.asMap());   // the merged dict owns (and closes) the shards' tensors
      }
      return new StateDict(merged, Map.of(), dir + " (" + world + " optimizer shards)");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the optimizer state of checkpoint " + dir + ": " + e.getMessage(), e);
    }
  }
}
