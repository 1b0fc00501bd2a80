package dev.mplug.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.eval.ResultFile;
import dev.mplug.eval.caption.CaptionMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mplug score caption}: coco-caption's metrics (BLEU-1..4, ROUGE-L, CIDEr-D, after PTB tokenisation) of a
 * results file against COCO caption annotations, as JSON on standard output:
 * {@code {"corpus": {...}, "per_image": {"<id>": {...}}, "not_computed": {"METEOR": why, "SPICE": why}}}.
 *
 * <p>Every image of the annotations must have exactly one result and every result an annotated image; image ids 42
 * and "42" are the same id. Any problem in either file stops the command with one line naming the file and the item,
 * and nothing is printed on standard output.
 */
@Command(name = "caption", mixinStandardHelpOptions = true,
    description = "Score generated captions as coco-caption does (BLEU-1..4, ROUGE-L, CIDEr-D; PTB tokenisation). "
        + "METEOR and SPICE need Java jars that are not available and are reported as not computed.")
public final class ScoreCaptionCommand implements Callable<Integer> {
  @Option(names = "--references", required = true, paramLabel = "COCO_CAPTIONS.json",
      description = "COCO caption annotations: {\"annotations\": [{\"image_id\": 42, \"caption\": \"...\"}, ...]}.")
  Path references;

  @Option(names = "--results", required = true, paramLabel = "RESULTS.json",
      description = "One caption per image: [{\"image_id\": 42, \"caption\": \"...\"}, ...].")
  Path results;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() throws IOException {
    Map<String, List<String>> refs = readReferences(references);
    Map<String, String> res = readResults(results, refs);
    CaptionMetrics.Report report = CaptionMetrics.score(refs, res);
    ObjectNode out = JSON.createObjectNode();
    out.set("corpus", JSON.valueToTree(report.corpus()));
    out.set("per_image", JSON.valueToTree(report.perImage()));
    out.set("not_computed", JSON.valueToTree(CaptionMetrics.NOT_COMPUTED));
    System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
    return 0;
  }

  /** The reference captions of each image id, in the file's order. */
  static Map<String, List<String>> readReferences(Path file) throws IOException {
    JsonNode annotations = read(file, "--references").path("annotations");
    if (!annotations.isArray() || annotations.isEmpty()) {
      throw new IllegalArgumentException(file + ": no \"annotations\" list (COCO caption format: {\"annotations\": "
          + "[{\"image_id\", \"caption\"}, ...]})");
    }
    Map<String, List<String>> refs = new LinkedHashMap<>();
    for (int i = 0; i < annotations.size(); i++) {
      JsonNode a = annotations.get(i);
      String id = imageId(file, "annotation " + i, a);
      refs.computeIfAbsent(id, k -> new ArrayList<>()).add(caption(file, "annotation " + i, id, a));
    }
    return refs;
  }

  /** The one result caption of each image id; every id must be one of {@code refs}' and each must have one. */
  static Map<String, String> readResults(Path file, Map<String, List<String>> refs) {
    return ResultFile.read(file, "image_id", refs.keySet(), e -> e.string("caption"));
  }

  private static JsonNode read(Path file, String option) throws IOException {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException(option + " " + file + " is not a file");
    try (InputStream in = Files.newInputStream(file)) {
      return JSON.readTree(in);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage()
          + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()), e);
    }
  }

  /** The image id as text: 42 and "42" are the same id. */
  private static String imageId(Path file, String item, JsonNode entry) {
    if (!entry.isObject()) throw new IllegalArgumentException(file + ": " + item + " is not an object");
    JsonNode id = entry.get("image_id");
    if (id == null || id.isNull()) throw new IllegalArgumentException(file + ": " + item + " has no image_id");
    if (id.isTextual()) return id.textValue();
    if (id.isIntegralNumber()) return id.bigIntegerValue().toString();
    throw new IllegalArgumentException(file + ": " + item + ": image_id " + id + " is neither an integer nor a string");
  }

  private static String caption(Path file, String item, String id, JsonNode entry) {
    JsonNode caption = entry.get("caption");
    if (caption == null || !caption.isTextual()) {
      throw new IllegalArgumentException(file + ": " + item + " (image_id " + id + "): caption "
          + (caption == null ? "is missing" : caption + " is not a string"));
    }
    return caption.textValue();
  }
}
