package dev.mplug.cli;

import dev.mplug.torch.TorchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mplug} binary: one subcommand per job. */
@Command(
    name = "mplug",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "mPLUG (cross-modal skip-connections) on the JVM: training, evaluation and inference on libtorch.",
    subcommands = {CommandLine.HelpCommand.class, InfoCommand.class, JmhCommand.class, SynthCommand.class,
        PackCommand.class, ForwardCommand.class, PretrainCommand.class, DemoCommand.class,
        BenchCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns the exit code (tests call this). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    // JMH's own options (-f, -wi, -p ...) pass through `mplug jmh` untouched.
    cli.getSubcommands().get("jmh").setUnmatchedOptionsArePositionalParams(true);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      // Bad input and native failures end in one clear line, not a stack trace.
      if (e instanceof TorchException || e instanceof IllegalArgumentException || e instanceof IOException
          || e instanceof UncheckedIOException) {
        commandLine.getErr().println("mplug " + commandLine.getCommandName() + ": " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cli.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The project version from the jar manifest (or "dev" when run from classes). */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"mplug-java " + (v != null ? v : "dev")};
    }
  }
}
