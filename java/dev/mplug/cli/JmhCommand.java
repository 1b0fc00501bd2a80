package dev.mplug.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code mplug jmh [JMH options] [benchmark regex]}: runs the JMH benchmarks compiled into the project. */
@Command(name = "jmh", mixinStandardHelpOptions = true,
    description = "Run the JMH benchmarks (dev.mplug.bench). Arguments go to JMH unchanged, e.g. "
        + "`mplug jmh Attention -f 1 -wi 3 -i 5`; `mplug jmh -- -h` lists JMH's options.")
public final class JmhCommand implements Callable<Integer> {
  @Parameters(arity = "0..*", description = "JMH arguments (regex of benchmarks, -f, -wi, -i, -p name=value, ...)")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    org.openjdk.jmh.Main.main(args.toArray(String[]::new));
    return 0;
  }
}
