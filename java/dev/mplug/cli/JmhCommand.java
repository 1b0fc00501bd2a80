package dev.mplug.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.ProfilersFailedException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code mplug jmh [JMH options] [benchmark regex]}: runs the JMH benchmarks compiled into the project. Does what
 * JMH's own {@code Main} does, but its failures become exceptions (one line, see {@link Failure}) instead of JMH's
 * messages and {@code System.exit}.
 */
@Command(name = "jmh", mixinStandardHelpOptions = true,
    description = "Run the JMH benchmarks (dev.mplug.bench). Arguments go to JMH unchanged, e.g. "
        + "`mplug jmh Attention -f 1 -wi 3 -i 5`; `mplug jmh -- -h` lists JMH's options.")
public final class JmhCommand implements Callable<Integer> {
  @Parameters(arity = "0..*", description = "JMH arguments (regex of benchmarks, -f, -wi, -i, -p name=value, ...)")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    CommandLineOptions options;
    try {
      options = new CommandLineOptions(args.toArray(String[]::new));
    } catch (CommandLineOptionException e) {
      throw new IllegalArgumentException("JMH options: " + e.getMessage() + " (`mplug jmh -- -h` lists them)", e);
    }
    Runner runner = new Runner(options);
    if (options.shouldHelp()) {
      options.showHelp();
    } else if (options.shouldList()) {
      runner.list();
    } else if (options.shouldListWithParams()) {
      runner.listWithParams(options);
    } else if (options.shouldListProfilers()) {
      options.listProfilers();
    } else if (options.shouldListResultFormats()) {
      options.listResultFormats();
    } else {
      try {
        runner.run();
      } catch (NoBenchmarksException e) {
        throw new IllegalArgumentException("no benchmark matches " + options.getIncludes()
            + " (`mplug jmh -l` lists them)", e);
      } catch (ProfilersFailedException e) {
        throw new IllegalArgumentException("JMH profilers failed: " + e.getMessage(), e);
      }
    }
    return 0;
  }
}
