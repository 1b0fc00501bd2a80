package dev.mplug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.api.ImageInput;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Match;
import dev.mplug.api.Rankings;
import dev.mplug.api.Task;
import dev.mplug.api.VideoInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mplug retrieve --images DIR --texts FILE}: the texts that best describe each image; {@code --videos DIR}: each
 * clip.
 */
@Command(name = "retrieve", mixinStandardHelpOptions = true,
    description = "Rank texts for images with a retrieval checkpoint (ITC top-k re-ranked by ITM, as the official "
        + "inference), or for clips with --videos and a video-retrieval checkpoint (re-ranked by ITM + ITC): for each "
        + "image or clip of the folder, its best texts of the file, best first.")
public final class RetrieveCommand implements Callable<Integer> {
  private static final List<String> IMAGE_EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".webp", ".bmp");

  @Option(names = "--images", paramLabel = "DIR", description = "A folder of images (.jpg, .jpeg, .png, .webp, .bmp), "
      + "taken in name order.")
  Path images;

  @Option(names = "--videos", paramLabel = "DIR", description = "A folder of clips, taken in name order: its "
      + "subfolders (frame folders) and Motion-JPEG .avi files.")
  Path videos;

  @Option(names = "--texts", required = true, paramLabel = "FILE", description = "Candidate texts, one per line "
      + "(blank lines skipped).")
  Path texts;

  @Option(names = "--top", description = "Texts listed per image (default ${DEFAULT-VALUE}).")
  int top = 5;

  @Option(names = "--k", description = "Candidates re-ranked by ITM per image or clip (default 256).")
  Integer k;

  @Mixin ModelOptions model;

  @Option(names = "--json", description = "Print [{\"image\" (or \"video\"), \"texts\": [{\"index\", \"text\", "
      + "\"similarity\", \"score\"}]}] as JSON.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    if ((images == null) == (videos == null)) {
      throw new IllegalArgumentException("give --images DIR or --videos DIR (one of them)");
    }
    boolean video = videos != null;
    String option = video ? "--videos " + videos : "--images " + images;
    Path folder = video ? videos : images;
    if (!Files.isDirectory(folder)) throw new IllegalArgumentException(option + " is not a folder");
    Inputs.requireFile(texts, "--texts");
    if (top < 1) throw new IllegalArgumentException("--top must be >= 1, got " + top);
    List<Path> files;
    try (Stream<Path> s = Files.list(folder)) {
      files = s.filter(video ? RetrieveCommand::isClip : RetrieveCommand::isImage).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException(option + " holds no " + (video ? "clips (frame folders or .avi files)"
          : IMAGE_EXTENSIONS + " files"));
    }
    List<VideoInput> clips = video ? files.stream().map(VideoInput::of).toList() : null;   // checked before loading
    List<String> candidates = Files.readAllLines(texts, StandardCharsets.UTF_8).stream().map(String::strip)
        .filter(t -> !t.isEmpty()).toList();
    if (candidates.isEmpty()) throw new IllegalArgumentException("--texts " + texts + " holds no texts");
    Rankings r;
    MPlugModel.Builder b = model.builder(video ? Task.VIDEO_RETRIEVAL : Task.RETRIEVAL);
    if (k != null) b.topK(k);
    try (MPlugModel m = b.build()) {
      r = video ? m.rankClips(clips, candidates) : m.rank(files.stream().map(ImageInput::of).toList(), candidates);
    }
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode out = mapper.createArrayNode();
    for (int i = 0; i < files.size(); i++) {
      List<Match> best = r.textsByImage().get(i).stream().limit(top).toList();
      if (json) {
        ObjectNode row = out.addObject().put(video ? "video" : "image", files.get(i).toString());
        ArrayNode list = row.putArray("texts");
        for (Match m : best) {
          list.addObject().put("index", m.index()).put("text", candidates.get(m.index()))
              .put("similarity", m.similarity()).put("score", m.score());
        }
      } else {
        System.out.println(files.get(i));
        for (int j = 0; j < best.size(); j++) {
          Match m = best.get(j);
          System.out.printf(Locale.ROOT, "  %d. %s  (itm %.3f, itc %.3f)%n", j + 1, candidates.get(m.index()),
              m.score(), m.similarity());
        }
      }
    }
    if (json) System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(out));
    return 0;
  }

  private static boolean isClip(Path p) {
    return Files.isDirectory(p) || Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT)
        .endsWith(".avi");
  }

  private static boolean isImage(Path p) {
    String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return Files.isRegularFile(p) && IMAGE_EXTENSIONS.stream().anyMatch(name::endsWith);
  }
}
