package dev.mplug.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Checks of the inference commands' input files, before a model is loaded. */
final class Inputs {
  private Inputs() {}

  /** Every path is a readable file; the first that is not is the error. */
  static void requireFiles(List<Path> files) {
    for (Path f : files) requireFile(f, "image");
  }

  static void requireFile(Path f, String what) {
    if (!Files.isRegularFile(f)) throw new IllegalArgumentException(what + " " + f + " does not exist");
    if (!Files.isReadable(f)) throw new IllegalArgumentException(what + " " + f + " is not readable");
  }
}
