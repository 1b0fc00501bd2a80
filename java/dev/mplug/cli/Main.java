package dev.mplug.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import dev.mplug.torch.TorchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.RunLast;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code mplug} binary: one subcommand per job.
 *
 * <p>Every failure ends in one line {@code mplug <command>: <reason>} on stderr and an exit code ({@link Failure}
 * decides both); {@code --debug} (any position) or {@code MPLUG_DEBUG=1} adds the stack trace.
 */
@Command(
    name = "mplug",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "mPLUG (cross-modal skip-connections) on the JVM: training, evaluation and inference on libtorch.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:the command's check failed (forward: outputs beyond tolerance)",
        "2:bad arguments, config, files, checkpoint or data; out of memory; CUDA missing",
        "70:internal error (a bug; rerun with --debug and report the trace)"},
    subcommands = {CommandLine.HelpCommand.class, InfoCommand.class, JmhCommand.class, SynthCommand.class,
        PackCommand.class, ForwardCommand.class, PretrainCommand.class, DemoCommand.class,
        BenchCommand.class, FinetuneCommand.class, EvaluateCommand.class, ScoreCommand.class, CaptionCommand.class,
        VqaCommand.class, RetrieveCommand.class, GroundCommand.class, EntailCommand.class, VerifyCommand.class,
        ServeCommand.class, LaunchCommand.class, ExperimentCommand.class})
public final class Main implements Runnable {
  @Spec CommandSpec spec;

  @Option(names = "--debug", scope = ScopeType.INHERIT,
      description = "On failure, print the Java stack trace after the one-line error (or set MPLUG_DEBUG=1).")
  boolean debug;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns the exit code (tests call this); errors go to {@code System.err} as it is now. */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The CLI with its error handling, printing to {@code System.err} as it is now (tests add commands to it). */
  static CommandLine commandLine() {
    Main main = new Main();
    CommandLine cli = new CommandLine(main);
    PrintWriter err = new PrintWriter(System.err, true);
    cli.setErr(err);
    // JMH's own options (-f, -wi, -p ...) pass through `mplug jmh` untouched.
    cli.getSubcommands().get("jmh").setUnmatchedOptionsArePositionalParams(true);
    // everything after the first positional of `mplug launch` is the command the ranks run, options included.
    cli.getSubcommands().get("launch").setStopAtPositional(true);
    boolean envDebug = debugRequested(System.getenv("MPLUG_DEBUG"));
    cli.setParameterExceptionHandler((e, ignored) ->
        fail(err, e.getCommandLine(), Failure.usage(e), e, main.debug || envDebug));
    cli.setExecutionExceptionHandler((e, command, ignored) ->
        fail(err, command, Failure.of(e), e, main.debug || envDebug));
    // picocli hands only Exceptions to the handler above; Errors (OutOfMemoryError above all) end here.
    cli.setExecutionStrategy(parseResult -> {
      try {
        return new RunLast().execute(parseResult);
      } catch (Error e) {
        return fail(err, last(parseResult), Failure.of(e), e, main.debug || envDebug);
      }
    });
    return cli;
  }

  /** Prints the one line (and with debug the trace) and returns the exit code. */
  private static int fail(PrintWriter err, CommandLine command, Failure failure, Throwable e, boolean debug) {
    err.println(command.getCommandSpec().qualifiedName() + ": " + failure.reason());
    if (debug) e.printStackTrace(err);
    err.flush();
    return failure.exitCode();
  }

  private static CommandLine last(ParseResult parseResult) {
    List<CommandLine> chain = parseResult.asCommandLineList();
    return chain.get(chain.size() - 1);
  }

  /** {@code MPLUG_DEBUG}: "1", "true", "yes" or "on" turn the traces on. */
  static boolean debugRequested(String value) {
    return value != null && List.of("1", "true", "yes", "on").contains(value.strip().toLowerCase(Locale.ROOT));
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
