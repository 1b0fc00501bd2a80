package dev.mplug.cli;

import dev.mplug.dist.Launcher;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mplug launch}: runs an mplug command as several data-parallel ranks on this node (torchrun's job, without
 * Python): {@code ./mplug launch --nproc 2 pretrain --config pretrain-demo}. Each rank is this JVM's command line
 * (same JDK, flags and class path) with the torchrun variables set.
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
    description = "Run an mplug command as --nproc data-parallel ranks on this node (and --nnodes nodes in all): "
        + "each rank gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun sets "
        + "them; output is prefixed [rank N]; when a rank fails the others are stopped and its status is returned.")
public final class LaunchCommand implements Callable<Integer> {
  @Option(names = "--nproc", required = true, description = "Ranks on this node.")
  int nproc;

  @Option(names = "--nnodes", description = "Nodes in the job (default ${DEFAULT-VALUE}).")
  int nnodes = 1;

  @Option(names = "--node-rank", description = "This node's index in [0, --nnodes) (default ${DEFAULT-VALUE}).")
  int nodeRank = 0;

  @Option(names = "--master", paramLabel = "HOST:PORT", description = "Where rank 0 serves the rendezvous (default "
      + "${DEFAULT-VALUE}; on several nodes: node 0's address, reachable from the others).")
  String master = "127.0.0.1:29500";

  @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The mplug command and its arguments.")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() {
    int colon = master.lastIndexOf(':');
    if (colon <= 0 || colon == master.length() - 1) {
      throw new IllegalArgumentException("--master " + master + ": expected HOST:PORT");
    }
    int port;
    try {
      port = Integer.parseInt(master.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--master " + master + ": the port is not a number", e);
    }
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    argv.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    argv.addAll(command);
    Launcher.Plan plan = new Launcher.Plan(nproc, nnodes, nodeRank, master.substring(0, colon), port, argv);
    return new Launcher(plan, Map.of()).run(System.out, System.err);
  }
}
