package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.io.SafeTensors;
import dev.mplug.io.StateDict;
import dev.mplug.torch.TensorScope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ranks as two hosts: each in a network namespace of its own, joined by a veth pair (10.213.x.1 and .2), the
 * master addressed by its namespace's address and Gloo bound to the interface by {@code GLOO_SOCKET_IFNAME}, as on
 * two machines. Where namespaces cannot be made (no root, no {@code ip}), the test is aborted with the reason, not
 * passed.
 */
class NetworkNamespaceTest {
  @TempDir Path tmp;

  @Test
  @SuppressWarnings("try") // the scope frees the tensors by being open
  void twoRanksInSeparateNetworkNamespacesTrainTogether() throws Exception {
    String id = Long.toString(ProcessHandle.current().pid() % 100_000);
    String a = "mplug-a" + id;
    String b = "mplug-b" + id;
    String subnet = "10.213." + (ProcessHandle.current().pid() % 250) + ".";
    String permitted = ip("netns", "add", a);
    Assumptions.assumeTrue(permitted.isEmpty(), "network namespaces are not permitted here: " + permitted);
    try {
      setUp(List.of(List.of("netns", "add", b),
          List.of("link", "add", "va" + id, "type", "veth", "peer", "name", "vb" + id),
          List.of("link", "set", "va" + id, "netns", a), List.of("link", "set", "vb" + id, "netns", b),
          List.of("-n", a, "addr", "add", subnet + "1/24", "dev", "va" + id),
          List.of("-n", b, "addr", "add", subnet + "2/24", "dev", "vb" + id),
          List.of("-n", a, "link", "set", "va" + id, "up"), List.of("-n", b, "link", "set", "vb" + id, "up"),
          // a host reaches its own address through loopback, which a new namespace has down
          List.of("-n", a, "link", "set", "lo", "up"), List.of("-n", b, "link", "set", "lo", "up")));
      int port = Ranks.freePort();
      Map<String, String> env0 = Map.of("MASTER_ADDR", subnet + "1", "GLOO_SOCKET_IFNAME", "va" + id);
      Map<String, String> env1 = Map.of("MASTER_ADDR", subnet + "1", "GLOO_SOCKET_IFNAME", "vb" + id);
      Ranks.Rank rank0 = Ranks.start(0, 2, port, inNamespace(a), env0);
      Ranks.Rank rank1 = Ranks.start(1, 2, port, inNamespace(b), env1);
      assertEquals(0, rank0.await(90), rank0.output().toString());
      assertEquals(0, rank1.await(30), rank1.output().toString());
    } finally {
      ip("netns", "del", b);   // the veth pair goes with its namespaces
      ip("netns", "del", a);
    }
    try (TensorScope scope = TensorScope.open();
        StateDict rank0 = SafeTensors.read(tmp.resolve("rank-0.safetensors"));
        StateDict rank1 = SafeTensors.read(tmp.resolve("rank-1.safetensors"))) {
      for (String n : GradientWorker.parameters(100).keySet()) {
        assertTrue(rank1.get("initial/" + n).equal(rank0.get("initial/" + n)), n + ": rank 0's values crossed over");
        assertTrue(rank1.get("grad/" + n).equal(rank0.get("grad/" + n)), n + ": the same averaged gradient");
      }
    }
  }

  private List<String> inNamespace(String ns) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    cmd.addAll(Ranks.java(GradientWorker.class.getName(), tmp.toString()));
    return cmd;
  }

  private static void setUp(List<List<String>> commands) throws IOException, InterruptedException {
    for (List<String> c : commands) {
      String error = ip(c.toArray(String[]::new));
      if (!error.isEmpty()) throw new IllegalStateException("ip " + String.join(" ", c) + ": " + error);
    }
  }

  /** Runs {@code ip args}; returns its error output (empty on success). */
  private static String ip(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      return "cannot run ip: " + e.getMessage();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    return p.waitFor() == 0 ? "" : out.isEmpty() ? "exit status " + p.exitValue() : out;
  }
}
